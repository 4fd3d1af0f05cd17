using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>Shape rule of TfIdfVectorizer.</summary>
[ShapeRules]
internal static class TextRules
{
    public static void Register(ShapeRules r) => r.Add("TfIdfVectorizer", TfIdfVectorizer);

    /// <summary>[B, max(ngram_indexes) + 1] for a [B, C] input, [max + 1] otherwise; always float.</summary>
    private static void TfIdfVectorizer(InferenceContext ctx)
    {
        var indexes = ctx.GetInts("ngram_indexes");
        Dim size = indexes is { Length: > 0 } ix ? ix.Max() + 1 : ctx.NewSymbol();
        var x = ctx.InputShape(0);
        Shape? shape = x is null ? null : x.Rank == 2 ? new Shape([x[0], size]) : new Shape([size]);
        ctx.SetOutput(0, DataType.Float, shape);
    }
}
