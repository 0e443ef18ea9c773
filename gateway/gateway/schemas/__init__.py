"""Request and response models of the REST API, one module per service, with proto conversions."""
