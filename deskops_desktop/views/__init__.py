"""Qt Widgets views.

Only this package (and ``app``) imports Qt; widgets call services, never SQL.
"""
