using System.Runtime.CompilerServices;

// Tests inject a failure between chunk inserts to prove upserts are all-or-nothing.
[assembly: InternalsVisibleTo("Rag.Retrieval.Tests")]
