"""The main window's parts: each file one job (pages, docks, menus, files, status, layout, messages);
rnnviz.ui.main_window puts them together."""
