"""Features read from a question's text alone (a TF-IDF lexicon, surface form), shared by the task prior and
the GNN; numpy only, so routers that use them need not import torch_geometric."""
