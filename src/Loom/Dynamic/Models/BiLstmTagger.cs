namespace Loom.Dynamic.Models;

/// <summary>
/// A BiLSTM tagger over chains (sentences): an LSTM reads the word embeddings left to right and another right to
/// left (i, f, o, g from W x + U h + b; c = f⊙c' + i⊙g; h = o⊙tanh(c)); each word's tag comes from
/// −log softmax(W_out [h_fwd; h_bwd])[tag]. Sentences differ in length, so chains of many lengths are batched.
/// </summary>
public sealed class BiLstmTagger
{
    private sealed record Lstm(Parameter[] W, Parameter[] U, Parameter[] B, LookupParameter Start);

    private readonly Lstm _fwd, _bwd;

    public BiLstmTagger(int vocabulary, int hidden, int tags = 5, ulong seed = 1)
    {
        Hidden = hidden;
        var pc = new ParameterCollection(seed);
        Lstm Make(string n) => new(
            [.. "ifog".Select(g => pc.Add($"{n}.W_{g}", hidden, hidden))],
            [.. "ifog".Select(g => pc.Add($"{n}.U_{g}", hidden, hidden))],
            [.. "ifog".Select(g => pc.Add($"{n}.b_{g}", hidden))],
            pc.AddLookup($"{n}.h0c0", 2, hidden));
        _fwd = Make("fwd");
        _bwd = Make("bwd");
        Embedding = pc.AddLookup("E", vocabulary, hidden);
        Output = pc.Add("W_out", tags, 2 * hidden);
        Parameters = pc;
    }

    public int Hidden { get; }
    public ParameterCollection Parameters { get; }
    public LookupParameter Embedding { get; }
    public Parameter Output { get; }

    /// <summary>The summed tag losses of <paramref name="sentences"/> (word ids and tags); word states into <paramref name="states"/>.</summary>
    public Expr BuildForward(DynamicGraph g, IReadOnlyList<(int[] Words, int[] Tags)> sentences, List<Expr>? states = null)
    {
        var losses = new List<Expr>();
        foreach (var (words, tags) in sentences)
        {
            var x = words.Select(w => g.Lookup(Embedding, w)).ToArray();
            var hf = Run(g, _fwd, x, reverse: false);
            var hb = Run(g, _bwd, x, reverse: true);
            for (int t = 0; t < x.Length; t++)
            {
                var both = Expr.Concat(hf[t], hb[t]);
                states?.Add(both);
                losses.Add(g.PickNegLogSoftmax(Output, both, tags[t]));
            }
        }
        return Expr.Sum([.. losses]);
    }

    private static Expr[] Run(DynamicGraph g, Lstm p, Expr[] x, bool reverse)
    {
        var h = new Expr[x.Length];
        Expr hPrev = g.Lookup(p.Start, 0), cPrev = g.Lookup(p.Start, 1);
        for (int k = 0; k < x.Length; k++)
        {
            int t = reverse ? x.Length - 1 - k : k;
            Expr Gate(int j) => Expr.Affine(p.B[j], (p.W[j], x[t]), (p.U[j], hPrev));
            var i = Expr.Logistic(Gate(0));
            var f = Expr.Logistic(Gate(1));
            var o = Expr.Logistic(Gate(2));
            var gg = Expr.Tanh(Gate(3));
            cPrev = f * cPrev + i * gg;
            hPrev = o * Expr.Tanh(cPrev);
            h[t] = hPrev;
        }
        return h;
    }
}
