using System.Reflection;
using Rag.Retrieval.Abstractions;
using Xunit.Sdk;

namespace Rag.Retrieval.Tests;

/// <summary>
/// The <see cref="DocumentStoreContractTests"/> run against a real Qdrant server (env QDRANT_URL, QDRANT_API_KEY
/// optional), one theory row per contract test and data row. xunit 2 cannot skip an inherited [Fact] at runtime,
/// so instead of deriving (which would fail every test without a server) this class runs the contract's methods on a
/// private subclass, and each row skips with "QDRANT_URL not set: Qdrant contract tests skipped" when there is none.
/// </summary>
public sealed class QdrantDocumentStoreContractTests
{
    public static TheoryData<string, string[]> ContractCases()
    {
        var cases = new TheoryData<string, string[]>();
        foreach (var method in ContractMethods())
        {
            var rows = method.GetCustomAttributes<DataAttribute>().SelectMany(d => d.GetData(method)).ToList();
            if (rows.Count == 0) cases.Add(method.Name, []);
            // Contract theories take strings only; carrying them as strings keeps every row serializable.
            foreach (var row in rows) cases.Add(method.Name, row.Select(a => (string)a).ToArray());
        }
        return cases;
    }

    [SkippableTheory]
    [MemberData(nameof(ContractCases))]
    public async Task Contract(string test, string[] arguments)
    {
        QdrantLiveCollection.SkipUnlessConfigured();
        var method = ContractMethods().Single(m => m.Name == test);
        var suite = new QdrantContract();
        await suite.InitializeAsync();
        try
        {
            await (Task)method.Invoke(suite, arguments.Cast<object>().ToArray())!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
        }
        finally
        {
            await suite.DisposeAsync();
        }
    }

    private static IEnumerable<MethodInfo> ContractMethods() =>
        typeof(DocumentStoreContractTests).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.GetCustomAttribute<FactAttribute>() is not null); // [Theory] is a [Fact] too

    /// <summary>Private, so xunit does not discover the inherited facts here; a fresh collection per test.</summary>
    private sealed class QdrantContract : DocumentStoreContractTests
    {
        private QdrantLiveCollection? _collection;

        // Vector size 0: the contract writes 8- and 16-dimensional corpora, so the first embeddings size the collection.
        protected override Task<IDocumentStore> CreateStoreAsync()
        {
            _collection = new QdrantLiveCollection(vectorSize: 0);
            return Task.FromResult<IDocumentStore>(_collection.Store);
        }

        public override async Task DisposeAsync()
        {
            if (_collection is not null) await _collection.DisposeAsync();
        }
    }
}
