using Loom.Dynamic.Data;

namespace Loom.Tests.BatchingTests;

/// <summary>Hand-written trees of varied shapes (a one-word tree, left and right spines, repeated words).</summary>
internal static class SmallTrees
{
    public static readonly string[] Lines =
    [
        "(2 (3 (3 Effective) (2 but)) (1 (1 too-tepid) (2 biopic)))",
        "(4 good)",
        "(1 (2 (2 (2 a) (3 b)) (1 c)) (0 d))",
        "(3 (2 a) (4 (2 b) (1 (0 c) (2 the))))",
        "(2 (2 the) (2 the))",
        "(0 (1 (2 Effective) (3 biopic)) (2 (1 (4 good) (2 a)) (2 b)))",
    ];

    public static (List<SstTree> Trees, Vocabulary Vocab) Load()
    {
        var trees = Lines.Select((l, i) => SstReader.Parse(l, "small", i + 1)).ToList();
        return (trees, Vocabulary.Build(trees));
    }

    /// <summary>Asserts |a − b| ≤ rtol·|b| + atol elementwise.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double rtol = 1e-5, double atol = 1e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= rtol * Math.Abs(expected[i]) + atol,
                $"element {i}: expected {expected[i]}, got {actual[i]}");
    }
}
