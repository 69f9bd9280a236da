using System.Runtime.CompilerServices;

// Tests inject a failure between chunk inserts to prove upserts are all-or-nothing.
[assembly: InternalsVisibleTo("Rag.Retrieval.Tests")]

// The BERT encoder (its own project) reads the query/passage marker of the embedding options.
[assembly: InternalsVisibleTo("Rag.Embeddings")]
