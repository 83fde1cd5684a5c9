"""linkback: receive TrackBacks, Pingbacks and Webmentions for static sites.

The package is the domain shared by every Lambda handler. Its protocol modules (`trackback`,
`pingback`, `urls`, `links`, `feed`) do no I/O; all I/O lives in three adapters: `fetch` (the safe
fetcher), `storage` (pynamodb models) and `queue` (SQS).
"""
