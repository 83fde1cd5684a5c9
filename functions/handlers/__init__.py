"""One thin module per Lambda: parse the event, call the linkback package, shape the response."""
