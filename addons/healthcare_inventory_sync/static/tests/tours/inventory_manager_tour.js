/** @odoo-module */

import { registry } from "@web/core/registry";

// An Inventory Manager reads a shortage alert, opens the replenishment proposal
// behind it from the Healthcare menu and applies it (tests/test_tours.py).
registry.category("web_tour.tours").add("healthcare_inventory_manager_tour", {
    url: "/odoo/action-healthcare_inventory_sync.healthcare_stock_alert_action",
    steps: () => [
        {
            content: "Open the shortage alert",
            trigger: ".o_data_row td[name='name']:contains('Tour saline below minimum')",
            run: "click",
        },
        {
            content: "The alert names the facility short of the item",
            trigger: ".o_form_view .o_field_widget[name='warehouse_id']:contains('Test Hospital')",
        },
        {
            content: "Open the Healthcare menu",
            trigger:
                ".o_menu_sections button[data-menu-xmlid='healthcare_inventory_sync.healthcare_menu']",
            run: "click",
        },
        {
            content: "Go to the replenishment proposals",
            trigger:
                ".dropdown-item[data-menu-xmlid='healthcare_inventory_sync.healthcare_replenishment_proposal_menu']",
            run: "click",
        },
        {
            content: "Open the proposal for the saline",
            trigger: ".o_data_row td[name='product_id']:contains('Test saline 500 ml')",
            run: "click",
        },
        {
            content: "The proposal says where the stock comes from",
            trigger: ".o_form_view .o_field_widget[name='source_warehouse_id']:contains('Test Central')",
        },
        {
            content: "Apply it",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_apply']",
            run: "click",
        },
        {
            content: "The proposal is applied and its transfer is one click away",
            trigger:
                ".o_form_view:has(.o_statusbar_status button.o_arrow_button_current:contains('Applied')) .oe_stat_button[name='action_open_picking']",
        },
    ],
});
