"""linkback: receive, verify, moderate and show TrackBacks, Pingbacks and Webmentions for static sites.

The domain every Lambda handler imports, one sub-package per stage of the pipeline, in the order a
mention travels (docs/architecture.md draws it):

- `receive`    the three protocols' requests and replies (no I/O) and the one intake path
- `verify`     fetch the source safely, find the link, extract title/excerpt/author, decide
- `spam`       page measures, scored rules with reasons, policy, screening, Akismet
- `moderation` the owner's decisions (single, bulk, one-click) and what an owner is shown
- `notify`     telling the owner: the announcer, mail, signed webhooks
- `read`       the public jf2 feed, counts and the widget asset
- `store`      the only code that knows DynamoDB (pynamodb) and SQS

At the top, only what every stage shares: `model`, `errors`, `urls`, `text`, `config`, `wiring` (the
one place that builds clients), `observability` and `faults` (dev/test fault injection).
Package `__init__` modules hold docstrings only: a handler pays at cold start for what it imports.
"""
