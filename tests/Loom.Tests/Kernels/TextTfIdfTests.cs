using Loom.Tests.Support;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public class TextTfIdfTests
{
    // Unigrams 2, 3, 5, 4 -> columns 0..3; bigrams (5,6), (7,8), (6,7) -> columns 4..6.
    private static Attr[] Pool(string mode, int minGram, int maxGram, int skip, float[]? weights = null)
    {
        var a = new List<Attr>
        {
            Attr.String("mode", mode), Attr.Int("min_gram_length", minGram), Attr.Int("max_gram_length", maxGram), Attr.Int("max_skip_count", skip),
            Attr.Ints("ngram_counts", [0, 4]), Attr.Ints("ngram_indexes", [0, 1, 2, 3, 4, 5, 6]), Attr.Ints("pool_int64s", [2, 3, 5, 4, 5, 6, 7, 8, 6, 7]),
        };
        if (weights is not null) a.Add(Attr.Floats("weights", weights));
        return a.ToArray();
    }

    private static readonly Tensor Text = Tensor.FromArray(new[] { 1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8 }, 12);

    [Fact]
    public void Tf_counts_unigrams_and_contiguous_bigrams()
    {
        // 3 occurs 3 times, 5 once; bigrams (7,8), (6,7), (5,6) once each.
        var y = OpTester.Run("TfIdfVectorizer", Pool("TF", 1, 2, 0), Text)[0];
        OpTester.AssertClose([0, 3, 1, 0, 1, 1, 1], y);
    }

    [Fact]
    public void Skips_find_bigrams_with_gaps_but_count_unigrams_once()
    {
        // With skips up to 5, (7,8) is also found as 7 _ _ _ _ 8 and 7 _ 8 -> 3.
        var y = OpTester.Run("TfIdfVectorizer", Pool("TF", 1, 2, 5), Text)[0];
        OpTester.AssertClose([0, 3, 1, 0, 1, 3, 1], y);
    }

    [Fact]
    public void Idf_and_tfidf_apply_weights()
    {
        float[] w = [0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f];
        OpTester.AssertClose([0, 1, 1.5f, 0, 2.5f, 3, 3.5f], OpTester.Run("TfIdfVectorizer", Pool("IDF", 1, 2, 0, w), Text)[0]);
        OpTester.AssertClose([0, 3, 1.5f, 0, 2.5f, 3, 3.5f], OpTester.Run("TfIdfVectorizer", Pool("TFIDF", 1, 2, 0, w), Text)[0]);
    }

    [Fact]
    public void Batches_count_per_row()
    {
        var y = OpTester.Run("TfIdfVectorizer", Pool("TF", 2, 2, 0), Tensor.FromArray(new long[] { 5, 6, 7, 8, 6, 7 }, 2, 3))[0];
        Assert.Equal([2, 7], y.Shape.ToArray());
        OpTester.AssertClose([0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1], y); // row 0 has (5,6) and (6,7); row 1 has (6,7)
    }

    [Fact]
    public void String_pool()
    {
        var attrs = new[]
        {
            Attr.String("mode", "TF"), Attr.Int("min_gram_length", 1), Attr.Int("max_gram_length", 2), Attr.Int("max_skip_count", 0),
            Attr.Ints("ngram_counts", [0, 3]), Attr.Ints("ngram_indexes", [0, 1, 2, 3]), Attr.Strings("pool_strings", ["a", "b", "c", "a", "b"]),
        };
        var y = OpTester.Run("TfIdfVectorizer", attrs, Tensor.FromArray(new[] { "a", "b", "a", "c" }, 4))[0];
        OpTester.AssertClose([2, 1, 1, 1], y);
    }

    [Fact]
    public void Empty_rows_give_zero_counts()
    {
        var y = OpTester.Run("TfIdfVectorizer", Pool("TF", 1, 2, 0), Tensor.FromArray(Array.Empty<int>(), 2, 0))[0];
        Assert.Equal([2, 7], y.Shape.ToArray());
        Assert.All(y.ToArray<float>(), v => Assert.Equal(0, v));
    }
}
