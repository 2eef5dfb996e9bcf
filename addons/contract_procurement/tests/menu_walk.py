"""Open every menu of some addons as one user, the way the web client does. Plain Python.

For each menu the user sees (``ir.ui.menu.load_web_menus``) whose xml id belongs to one
of the addons and that opens a window action, load the action (``/web/action/load``),
then for each view type of the action call the server methods the 18.0 web client calls:
``get_views``; ``web_search_read`` (list, kanban; ``web_read_group`` when grouped); for a
form ``web_read`` of a record and ``onchange`` of a new one (when the user may create);
``read_group`` (pivot) or ``web_read_group`` (graph) with the arch's measures, each with
the aggregator the client requires of a measure. Any error answer is a failure: the
caller gives ``call(model, method, *args, **kwargs)`` and ``load_action(action_id)``,
which raise on an error answer, and gets back the list of what it opened.
"""

import ast
import datetime
import xml.etree.ElementTree as ET

SUBVIEW_TAGS = {"list", "tree", "form", "kanban", "graph", "pivot", "calendar", "search"}
OPENED_VIEW_TYPES = {"list", "kanban", "form", "pivot", "graph"}


class MeasureWithoutAggregator(AssertionError):
    """The web client's pivot and graph refuse a measure whose field has no aggregator."""


def _eval(expression, names):
    """A domain or context of an action or a filter, with the names the client gives."""
    if not expression:
        return None
    if not isinstance(expression, str):
        return expression
    try:
        return ast.literal_eval(expression)
    except (ValueError, SyntaxError):
        # expressions such as [('user_id', '=', uid)]: test data, evaluated as the client does
        return eval(expression, {"__builtins__": {}}, names)  # pylint: disable=eval-used


def arch_fields(arch):
    """The names of the fields of the view's own model in ``arch`` (not of subviews)."""
    root = ET.fromstring(arch)
    names = []

    def visit(node):
        for child in node:
            if child.tag == "field":
                if child.get("name") not in names:
                    names.append(child.get("name"))
                continue  # subviews of an x2many describe another model
            if child.tag in SUBVIEW_TAGS:
                continue
            visit(child)

    visit(root)
    return names


def _spec(names, fields):
    spec = {}
    for name in names:
        if name not in fields:
            continue
        if fields[name]["type"] in ("many2one", "many2many", "one2many"):
            spec[name] = {"fields": {"display_name": {}}}
        else:
            spec[name] = {}
    return spec


def _measure_spec(name, fields):
    """``name:aggregator`` as the client asks, or the client's own error."""
    field = fields[name]
    aggregator = "count_distinct" if field["type"] == "many2one" else field.get("aggregator")
    if not aggregator:
        raise MeasureWithoutAggregator(
            f"No aggregate function has been provided for the measure '{name}'"
        )
    return f"{name}:{aggregator}"


class MenuWalker:
    """One user's walk through the menus of ``addons``."""

    def __init__(self, call, load_action, uid, company_ids):
        self.call = call
        self.load_action = load_action
        self.names = {
            "uid": uid,
            "allowed_company_ids": company_ids,
            "active_id": False,
            "active_ids": [],
            "context": {},
            "context_today": datetime.date.today,
            "datetime": datetime,
            "time": None,
            "True": True,
            "False": False,
            "None": None,
        }

    def menus(self, addons):
        """The menus the user sees, of the addons, that open a window action."""
        # not an api.model method: called on no record, as the menu loader does
        menus = self.call("ir.ui.menu", "load_web_menus", [], False)
        found = []
        for menu in menus.values():
            xmlid = menu.get("xmlid") or ""
            if xmlid.split(".")[0] not in addons:
                continue
            if menu.get("actionModel") == "ir.actions.act_window" and menu.get("actionID"):
                found.append(menu)
        return sorted(found, key=lambda m: m["xmlid"])

    def walk(self, addons):
        """Open every view of every menu; return ``[(menu xmlid, view type), ...]``."""
        opened = []
        for menu in self.menus(addons):
            for view_type in self.open_menu(menu):
                opened.append((menu["xmlid"], view_type))
        return opened

    def open_menu(self, menu):
        action = self.load_action(menu["actionID"])
        context = dict(_eval(action.get("context"), self.names) or {})
        context.update(allowed_company_ids=self.names["allowed_company_ids"])
        domain = list(_eval(action.get("domain"), self.names) or [])
        model = action["res_model"]
        views = [[view_id or False, view_type] for view_id, view_type in action["views"]]
        search_view = action.get("search_view_id")
        views.append([search_view[0] if search_view else False, "search"])
        result = self.call(
            model,
            "get_views",
            views=views,
            options={"action_id": action["id"], "load_filters": True, "toolbar": True},
            context=context,
        )
        fields = result["models"][model]["fields"]
        domain, groupby = self._search_defaults(result["views"]["search"]["arch"], context, domain)
        opened = []
        for view_type, view in result["views"].items():
            if view_type not in OPENED_VIEW_TYPES:
                continue
            getattr(self, f"_open_{view_type}")(
                model, view["arch"], fields, domain, groupby, context
            )
            opened.append(view_type)
        return opened

    def _search_defaults(self, arch, context, domain):
        """The domain and grouping the search defaults of the context apply."""
        groupby = []
        defaults = {
            k[len("search_default_") :]
            for k, v in context.items()
            if k.startswith("search_default_") and v
        }
        for node in ET.fromstring(arch).iter("filter"):
            if node.get("name") not in defaults:
                continue
            if node.get("domain"):
                domain = domain + list(_eval(node.get("domain"), self.names))
            node_context = _eval(node.get("context"), self.names) or {}
            if node_context.get("group_by"):
                groupby.append(node_context["group_by"])
        return domain, groupby

    def _open_list(self, model, arch, fields, domain, groupby, context):
        spec = _spec(arch_fields(arch), fields)
        if groupby:
            self.call(
                model,
                "web_read_group",
                domain,
                ["__count"],
                groupby[:1],
                limit=80,
                lazy=True,
                context=context,
            )
        self.call(
            model, "web_search_read", domain, spec, limit=80, count_limit=10001, context=context
        )

    _open_kanban = _open_list

    def _open_form(self, model, arch, fields, domain, groupby, context):
        spec = _spec(arch_fields(arch), fields)
        found = self.call(
            model, "web_search_read", domain, {"display_name": {}}, limit=1, context=context
        )
        if found["records"]:
            self.call(model, "web_read", [found["records"][0]["id"]], spec, context=context)
        if ET.fromstring(arch).get("create") not in ("false", "0", "False"):
            self.call(model, "onchange", [], {}, [], spec, context=context)

    def _open_pivot(self, model, arch, fields, domain, groupby, context):
        root = ET.fromstring(arch)
        measures = ["__count"]
        rows, cols = [], []
        for node in root.iter("field"):
            name = node.get("name")
            if node.get("type") == "measure":
                measures.append(_measure_spec(name, fields))
            elif node.get("type") in ("row", "col"):
                spec = f"{name}:{node.get('interval')}" if node.get("interval") else name
                (rows if node.get("type") == "row" else cols).append(spec)
        self.call(model, "read_group", domain, measures, [], lazy=False, context=context)
        if rows or cols:
            self.call(
                model,
                "read_group",
                domain,
                measures,
                rows[:1] + cols[:1],
                lazy=False,
                context=context,
            )

    def _open_graph(self, model, arch, fields, domain, groupby, context):
        measures = ["__count"]
        groupbys = []
        for node in ET.fromstring(arch).iter("field"):
            name = node.get("name")
            if node.get("type") == "measure":
                measures.append(_measure_spec(name, fields))
            elif not node.get("invisible"):
                groupbys.append(f"{name}:{node.get('interval')}" if node.get("interval") else name)
        self.call(
            model, "web_read_group", domain, measures[:2], groupbys[:2], lazy=False, context=context
        )
