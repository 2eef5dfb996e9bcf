/** @odoo-module */

import { registry } from "@web/core/registry";

// Each role's main flow in the browser; tests/test_tours.py prepares the records,
// starts each tour as a user of that role and checks the database afterwards.
const tours = registry.category("web_tour.tours");

function addOrderLine(product) {
    return [
        {
            content: `Add a line for ${product}`,
            trigger: "div[name='order_line'] .o_field_x2many_list_row_add a",
            run: "click",
        },
        {
            content: `Choose ${product}`,
            trigger: "div[name='order_line'] .o_selected_row div[name='product_id'] input",
            run: `edit ${product}`,
        },
        {
            trigger: `.ui-autocomplete a:contains('${product}')`,
            run: "click",
        },
        {
            content: "The line is filled in",
            trigger: `div[name='order_line'] .o_selected_row div[name='product_id'] input:value(${product})`,
        },
    ];
}

// Buyer: reads the contract, orders from it at the contract price plus an item another
// supplier's contract covers, gives the off-contract reason Confirm Order asks for.
tours.add("contract_procurement_buyer_tour", {
    steps: () => [
        {
            content: "The contract lists its price for the gloves",
            trigger:
                ".o_form_view div[name='line_ids'] .o_data_row:contains('Contract gloves') td:contains('10.00')",
        },
        {
            content: "Open the Orders menu",
            trigger: ".o_menu_sections button[data-menu-xmlid='purchase.menu_procurement_management']",
            run: "click",
        },
        {
            content: "Go to the requests for quotation",
            trigger: ".dropdown-item[data-menu-xmlid='purchase.menu_purchase_rfq']",
            run: "click",
        },
        {
            content: "New request for quotation",
            trigger: ".o_control_panel_main_buttons .o_list_button_add",
            run: "click",
        },
        {
            content: "The contract's supplier",
            trigger: ".o_form_view div[name='partner_id'] input",
            run: "edit MedSupply Ltd",
        },
        {
            trigger: ".ui-autocomplete a:contains('MedSupply Ltd')",
            run: "click",
        },
        ...addOrderLine("Contract gloves"),
        ...addOrderLine("Contract mask"),
        {
            content: "The gloves come at the contract price",
            trigger:
                "div[name='order_line'] .o_data_row:contains('Contract gloves') td[name='contract_price']:contains('10.00')",
        },
        {
            // unsaved: Confirm Order saves the new order first, and the form must come
            // back to it after the dialog
            content: "Confirm Order",
            trigger: ".o_statusbar_buttons button[name='button_confirm']",
            run: "click",
        },
        {
            content: "The dialog asks why the mask is bought off contract",
            trigger: ".modal .o_field_widget[name='reason'] select",
            run: "selectByLabel Contract supplier out of stock",
        },
        {
            trigger: ".modal .o_field_widget[name='note'] textarea",
            run: "edit The ward needs masks today",
        },
        {
            trigger: ".modal footer button[name='action_confirm']",
            run: "click",
        },
        {
            content: "The order now waits for a Procurement Manager",
            trigger: ".o_form_view .o_purchase_status_banner:contains('Waiting for approval')",
        },
    ],
});

// Procurement Manager: approves the off-contract lines, then confirms the order.
tours.add("contract_procurement_manager_tour", {
    steps: () => [
        {
            content: "The banner says what the order waits for",
            trigger: ".o_form_view .o_purchase_status_banner:contains('Waiting for approval')",
        },
        {
            content: "Approve the off-contract lines",
            trigger: ".o_statusbar_buttons button[name='action_approve_off_contract']",
            run: "click",
        },
        {
            content: "Nothing waits any more: Confirm Order",
            trigger:
                ".o_form_view:not(:has(.o_purchase_status_banner:visible)) .o_statusbar_buttons button[name='button_confirm']",
            run: "click",
        },
        {
            content: "The order is confirmed",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Purchase Order')",
        },
    ],
});

// AP clerk: sees the bill's match exception and cannot post or override it.
tours.add("contract_procurement_ap_clerk_tour", {
    steps: () => [
        {
            content: "Open the three-way match",
            trigger: ".o_notebook .nav-link:contains('Three-way Match')",
            run: "click",
        },
        {
            content: "The bill is held by an exception",
            trigger: ".o_form_view .o_field_widget[name='match_state']:contains('Exceptions')",
        },
        {
            content: "It names what does not match",
            trigger:
                ".o_field_widget[name='match_exception_ids'] .o_data_row td[name='exception_type']:contains('Billed more than received')",
        },
        {
            content: "No override for an AP clerk",
            trigger:
                ".o_form_view .o_statusbar_buttons:not(:has(button:contains('Override and Post'))) button[name='action_post']",
            run: "click",
        },
        {
            content: "Posting is refused",
            trigger: ".modal .modal-body:contains('three-way match')",
        },
        {
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The bill stays a draft",
            trigger:
                ".o_form_view:not(:has(.modal)) .o_statusbar_status button.o_arrow_button_current:contains('Draft')",
        },
    ],
});

// Finance Manager: overrides the exception with a reason, then resets the bill to draft,
// which clears the override.
tours.add("contract_procurement_finance_manager_tour", {
    steps: () => [
        {
            content: "Override and Post",
            trigger: ".o_statusbar_buttons button:contains('Override and Post')",
            run: "click",
        },
        {
            content: "Say why",
            trigger: ".modal .o_field_widget[name='reason'] textarea",
            run: "edit Partial delivery accepted by the ward",
        },
        {
            trigger: ".modal footer button[name='action_override_and_post']",
            run: "click",
        },
        {
            content: "The bill is posted",
            trigger:
                ".o_form_view:not(:has(.modal)) .o_statusbar_status button.o_arrow_button_current:contains('Posted')",
        },
        {
            content: "Open the three-way match",
            trigger: ".o_notebook .nav-link:contains('Three-way Match')",
            run: "click",
        },
        {
            content: "The match reads Overridden, with the reason",
            trigger:
                ".o_form_view:has(.o_field_widget[name='match_override_reason']:contains('Partial delivery')) .o_field_widget[name='match_state']:contains('Overridden')",
        },
        {
            content: "Reset to draft",
            trigger: ".o_statusbar_buttons button[name='button_draft']",
            run: "click",
        },
        {
            content: "The override is gone: the exception holds the bill again",
            trigger:
                ".o_form_view:not(:has(.o_field_widget[name='match_override_by_id'])) .o_field_widget[name='match_state']:contains('Exceptions')",
        },
    ],
});
