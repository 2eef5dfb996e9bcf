from . import purchase_contract, purchase_contract_line
