"""IAM semantics: policy documents judged, who may do what, one account's IAM snapshot."""
