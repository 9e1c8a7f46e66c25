"""Review: a person says yes or no to what a count found (and marks what it missed) in a local web
page; the decisions become verified counts, a precision estimate, and labels to retrain from."""
