"""`bot.py hunt`: the rules run over a trail's history where it is kept, by a query engine (Amazon Athena over the
trail's bucket, or a CloudTrail Lake event data store) that reads only the records some chosen rule could read."""
