"""ARIA's knowledge base: embedders, the French sparse encoder, the Qdrant vector store and hybrid search."""
