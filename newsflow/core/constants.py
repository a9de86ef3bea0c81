"""Constants more than one floor of the house uses, declared once."""

SEOUL = "Asia/Seoul"  # the time zone of every Korea-time column, schedule and report time
KST_FORMAT = "%Y-%m-%d %H:%M KST"  # how reports and the console print a time, in SEOUL
DEFAULT_WAREHOUSE = "lake"  # where a warehouse goes unless told (NEWSFLOW_WAREHOUSE): a data folder, never code
