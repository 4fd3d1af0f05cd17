using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>TfIdfVectorizer (opset 9): counts pooled n-grams (with skips) per row and weights them.</summary>
[KernelRegistrations]
internal static class TextTfIdfKernels
{
    public static void Register(KernelRegistry r) => r.Add("TfIdfVectorizer", Create, 9);

    private enum Weighting { Tf, Idf, TfIdf }

    /// <summary>A trie node over pool items: <see cref="Id"/> is the 1-based n-gram id ending here (0: none).</summary>
    private sealed class Trie<T> where T : notnull
    {
        public int Id;
        public Dictionary<T, Trie<T>>? Children;
    }

    private static Kernel Create(KernelInfo info)
    {
        var weighting = info.GetString("mode", "") switch
        {
            "TF" => Weighting.Tf,
            "IDF" => Weighting.Idf,
            "TFIDF" => Weighting.TfIdf,
            var m => throw info.Fail($"mode '{m}' is not supported (expected TF, IDF or TFIDF)"),
        };
        int minGram = (int)info.GetInt("min_gram_length", 0), maxGram = (int)info.GetInt("max_gram_length", 0), maxSkip = (int)info.GetInt("max_skip_count", 0);
        if (minGram < 1 || maxGram < minGram || maxSkip < 0)
            throw info.Fail($"need 1 <= min_gram_length ({minGram}) <= max_gram_length ({maxGram}) and max_skip_count ({maxSkip}) >= 0");
        var counts = info.GetInts("ngram_counts")?.ToArray() ?? throw info.Fail("ngram_counts is required");
        var indexes = info.GetInts("ngram_indexes")?.ToArray() ?? throw info.Fail("ngram_indexes is required");
        if (indexes.Length == 0 || indexes.Any(i => i < 0 || i >= int.MaxValue)) throw info.Fail("ngram_indexes must be non-empty and non-negative");
        var weights = info.GetFloats("weights")?.ToArray() ?? [];
        int outputSize = (int)indexes.Max() + 1;
        if (weights.Length > 0 && weights.Length < outputSize) throw info.Fail($"weights has {weights.Length} entries but the output has {outputSize}");
        var settings = new Settings(weighting, minGram, maxGram, maxSkip, indexes, weights, outputSize);

        var strings = info.Node.GetAttribute("pool_strings")?.AsStrings();
        if (strings is { Length: > 0 })
            return new TfIdfKernel<string>(settings, BuildTrie(info, strings.Value.ToArray(), counts, settings), isString: true);
        var ints = info.GetInts("pool_int64s")?.ToArray() ?? throw info.Fail("one of pool_strings and pool_int64s is required");
        return new TfIdfKernel<long>(settings, BuildTrie(info, ints, counts, settings), isString: false);
    }

    private sealed record Settings(Weighting Weighting, int MinGram, int MaxGram, int MaxSkip, long[] Indexes, float[] Weights, int OutputSize);

    /// <summary>
    /// Loads the pool into a trie: ngram_counts[i] is where the n-grams of length i+1 start. Ids run over
    /// all n-grams in pool order (lengths outside [min, max] are numbered but not loaded).
    /// </summary>
    private static Trie<T> BuildTrie<T>(KernelInfo info, T[] pool, long[] counts, Settings s) where T : notnull
    {
        var root = new Trie<T> { Children = new() };
        int id = 1;
        for (int i = 0; i < counts.Length; i++)
        {
            long start = counts[i], end = i + 1 < counts.Length ? counts[i + 1] : pool.Length;
            if (start < 0 || end > pool.Length || end < start) throw info.Fail($"ngram_counts [{string.Join(", ", counts)}] does not fit a pool of {pool.Length}");
            int size = i + 1, grams = (int)((end - start) / size);
            if (size < s.MinGram || size > s.MaxGram) { id += grams; continue; }
            for (int g = 0; g < grams; g++)
            {
                var node = root;
                for (int k = 0; k < size; k++)
                {
                    node.Children ??= new();
                    var key = pool[start + g * size + k];
                    if (!node.Children.TryGetValue(key, out var next)) node.Children[key] = next = new Trie<T>();
                    node = next;
                }
                if (id - 1 >= s.Indexes.Length) throw info.Fail($"n-gram {id} has no entry in ngram_indexes ({s.Indexes.Length} entries)");
                node.Id = id++;
            }
        }
        return root;
    }

    private sealed class TfIdfKernel<T>(Settings s, Trie<T> root, bool isString) : Kernel where T : notnull
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (isString != (x.DataType == DataType.String)) throw ctx.Fail($"input is {x.DataType.Name()} but the pool holds {(isString ? "strings" : "integers")}");
            if (x.Rank > 2) throw ctx.Fail($"input has shape {ShapeMath.Format(x.Shape)}; expected [C] or [B, C]");
            int rows = x.Rank == 2 ? x.Dims[0] : 1, width = x.Rank == 0 ? 1 : x.Dims[^1];
            var y = ctx.AllocateOutput(0, DataType.Float, x.Rank == 2 ? [rows, s.OutputSize] : [s.OutputSize]);
            var items = Items(x);
            var counts = new long[rows * s.OutputSize];
            for (int r = 0; r < rows; r++) CountRow(items.AsSpan(r * width, width), counts.AsSpan(r * s.OutputSize, s.OutputSize));

            var dst = y.AsSpan<float>();
            for (int i = 0; i < counts.Length; i++)
            {
                long f = counts[i];
                int col = i % s.OutputSize;
                dst[i] = s.Weighting switch
                {
                    Weighting.Tf => f,
                    Weighting.Idf => f > 0 ? (s.Weights.Length > 0 ? s.Weights[col] : 1) : 0,
                    _ => s.Weights.Length > 0 ? s.Weights[col] * f : f,
                };
            }
        }

        private static T[] Items(Tensor x) => x.DataType switch
        {
            DataType.String => (T[])(object)x.ToArray<string>(),
            DataType.Int64 => (T[])(object)x.ToArray<long>(),
            DataType.Int32 => (T[])(object)Array.ConvertAll(x.ToArray<int>(), v => (long)v),
            _ => throw new UnsupportedException($"TfIdfVectorizer does not accept {x.DataType.Name()} input"),
        };

        /// <summary>Walks the trie from every start, at every skip distance; unigrams are counted once, not per skip.</summary>
        private void CountRow(ReadOnlySpan<T> row, Span<long> counts)
        {
            int minGram = s.MinGram;
            for (int skip = 1; skip <= s.MaxSkip + 1; skip++)
            {
                for (int start = 0; start < row.Length; start++)
                {
                    if (start + (long)skip * (minGram - 1) >= row.Length) break;
                    var node = root;
                    int size = 1;
                    for (int at = start; node.Children is { Count: > 0 } && size <= s.MaxGram && at < row.Length; at += skip, size++)
                    {
                        if (!node.Children.TryGetValue(row[at], out var next)) break;
                        if (size >= minGram && next.Id != 0) counts[(int)s.Indexes[next.Id - 1]]++;
                        node = next;
                    }
                }
                if (minGram == 1)
                {
                    minGram = 2;
                    if (minGram > s.MaxGram) break;
                }
            }
        }
    }
}
