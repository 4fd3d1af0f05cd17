using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of the ai.onnx.ml operators (Binarizer, ArrayFeatureExtractor, LabelEncoder, tree ensembles, featurizers, linear models, ZipMap).</summary>
[ShapeRules]
internal static class MlRules
{
    private const string Domain = "ai.onnx.ml";

    public static void Register(ShapeRules r)
    {
        r.Add("Binarizer", ShapeHelpers.SameAsInput, Domain);
        r.Add("ArrayFeatureExtractor", ArrayFeatureExtractor, Domain);
        r.Add("LabelEncoder", LabelEncoder, Domain);
        r.Add("TreeEnsemble", TreeEnsemble, Domain);
        r.Add("TreeEnsembleRegressor", TreeEnsembleRegressor, Domain);
        r.Add("TreeEnsembleClassifier", TreeEnsembleClassifier, Domain);
        r.Add("Scaler", ctx => ctx.SetOutput(0, DataType.Float, ctx.InputShape(0)), Domain);
        r.Add("Normalizer", ctx => ctx.SetOutput(0, DataType.Float, ctx.InputShape(0)), Domain);
        r.Add("Imputer", ShapeHelpers.SameAsInput, Domain);
        r.Add("OneHotEncoder", OneHotEncoder, Domain);
        r.Add("FeatureVectorizer", ctx => ctx.SetOutput(0, DataType.Float, new Shape([Rows(ctx), Dim.Of(ctx.GetInts("inputdimensions")?.Sum() ?? 0)])), Domain);
        r.Add("LinearRegressor", ctx => ctx.SetOutput(0, DataType.Float, new Shape([Rows(ctx), Dim.Of(ctx.GetInt("targets", 1))])), Domain);
        r.Add("LinearClassifier", LinearClassifier, Domain);
        // ZipMap: a sequence of maps, keyed by the string or int64 class labels.
        r.Add("ZipMap", ctx => ctx.SetOutput(0, new SequenceType(MapValue.ValueType(ctx.Node.HasAttribute("classlabels_strings") ? DataType.String : DataType.Int64))), Domain);
    }

    /// <summary>X's shape with the categories appended.</summary>
    private static void OneHotEncoder(InferenceContext ctx)
    {
        int count = ctx.GetInts("cats_int64s")?.Length is > 0 and var n ? n : ctx.Node.GetAttribute("cats_strings")?.AsStrings().Length ?? 0;
        ctx.SetOutput(0, DataType.Float, ctx.InputShape(0) is { } x ? new Shape([.. x.Dims, Dim.Of(count)]) : null);
    }

    /// <summary>Labels [N]; scores [N, classes], two columns for one score with two labels.</summary>
    private static void LinearClassifier(InferenceContext ctx)
    {
        var n = Rows(ctx);
        bool strings = ctx.Node.HasAttribute("classlabels_strings");
        int labels = strings ? ctx.Node.GetAttribute("classlabels_strings")!.AsStrings().Length : ctx.GetInts("classlabels_ints")?.Length ?? 0;
        int scores = ctx.Node.GetFloats("intercepts")?.Length ?? 0;
        ctx.SetOutput(0, strings ? DataType.String : DataType.Int64, new Shape([n]));
        ctx.SetOutput(1, DataType.Float, new Shape([n, Dim.Of(scores == 1 && labels == 2 ? 2 : scores)]));
    }

    private static Dim Rows(InferenceContext ctx) => ctx.InputShape(0) switch
    {
        { Rank: 2 } x => x[0],
        { Rank: 1 } => Dim.One,
        _ => ctx.NewSymbol(),
    };

    /// <summary>[N, n_targets] float.</summary>
    private static void TreeEnsembleRegressor(InferenceContext ctx) =>
        ctx.SetOutput(0, DataType.Float, new Shape([Rows(ctx), Dim.Of(ctx.GetInt("n_targets", 1))]));

    /// <summary>Labels [N] (int64 or string, as the class labels), scores [N, classes] float.</summary>
    private static void TreeEnsembleClassifier(InferenceContext ctx)
    {
        var n = Rows(ctx);
        bool strings = ctx.Node.HasAttribute("classlabels_strings");
        int classes = strings ? ctx.Node.GetAttribute("classlabels_strings")!.AsStrings().Length : ctx.Node.GetInts("classlabels_int64s")?.Length ?? 0;
        ctx.SetOutput(0, strings ? DataType.String : DataType.Int64, new Shape([n]));
        ctx.SetOutput(1, DataType.Float, new Shape([n, Dim.Of(classes)]));
    }

    /// <summary>X's dims but the last, then the number of indices; a 1-D X gives [1, k].</summary>
    private static void ArrayFeatureExtractor(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        var x = ctx.InputShape(0);
        if (x is null) { ctx.SetOutput(0, dt, null); return; }
        Dim k = ctx.InputShape(1) is { } y ? y.Dims.Aggregate(Dim.One, (a, b) => a * b) : ctx.NewSymbol();
        ctx.SetOutput(0, dt, x.Rank <= 1 ? new Shape([Dim.One, k]) : new Shape([.. x.Dims.Take(x.Rank - 1), k]));
    }

    /// <summary>Same shape; the dtype is that of the values (opset 1: int64 for string input, string for int64 input).</summary>
    private static void LabelEncoder(InferenceContext ctx)
    {
        DataType dt;
        if (ctx.Opset < 2) dt = ctx.InputDataType(0) == DataType.Int64 ? DataType.String : DataType.Int64;
        else if (ctx.Node.GetAttribute("values_tensor") is { } t) dt = t.AsTensor().DataType;
        else if (ctx.Node.HasAttribute("values_strings")) dt = DataType.String;
        else if (ctx.Node.HasAttribute("values_int64s")) dt = DataType.Int64;
        else dt = DataType.Float;
        ctx.SetOutput(0, dt, ctx.InputShape(0));
    }

    /// <summary>[N, n_targets] in X's dtype.</summary>
    private static void TreeEnsemble(InferenceContext ctx)
    {
        ctx.SetOutput(0, ctx.InputDataType(0), new Shape([Rows(ctx), Dim.Of(ctx.GetInt("n_targets", 1))]));
    }
}
