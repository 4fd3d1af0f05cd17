using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>ai.onnx.ml featurizers: Scaler, Normalizer, Imputer, OneHotEncoder, FeatureVectorizer (ONNX Runtime's semantics).</summary>
[KernelRegistrations]
internal static class MlFeaturizerKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Scaler", info => new ScalerKernel(Floats(info, "offset"), Floats(info, "scale")), 1, domain: MlBasicKernels.Domain);
        r.Add("Normalizer", info => new NormalizerKernel(info.GetString("norm", "MAX") is var norm && norm is "MAX" or "L1" or "L2" ? norm
            : throw info.Fail($"norm '{norm}' is not one of MAX, L1, L2")), 1, domain: MlBasicKernels.Domain);
        r.Add("Imputer", info => new ImputerKernel(info), 1, domain: MlBasicKernels.Domain);
        r.Add("OneHotEncoder", info => new OneHotEncoderKernel(info), 1, domain: MlBasicKernels.Domain);
        r.Add("FeatureVectorizer", info => new FeatureVectorizerKernel(info.GetInts("inputdimensions")?.Select(d => (int)d).ToArray() ?? []), 1, domain: MlBasicKernels.Domain);
    }

    private static double[] Floats(KernelInfo info, string name) => info.GetFloats(name)?.Select(f => (double)f).ToArray() ?? [];

    /// <summary>Rows and columns of a [C] or [N, C] input (N=1 for 1-D).</summary>
    private static (int Rows, int Cols) Matrix(KernelContext ctx, Tensor x) => x.Rank switch
    {
        1 => (1, x.Dims[0]),
        2 => (x.Dims[0], x.Dims[1]),
        _ => throw ctx.Fail($"X has shape {ShapeMath.Format(x.Shape)}; expected [C] or [N, C]"),
    };

    /// <summary>A per-column parameter that is one value for all columns or one per column.</summary>
    private static double PerColumn(KernelContext ctx, double[] v, int col, int cols, string name) =>
        v.Length == 1 ? v[0] : v.Length == cols ? v[col] : throw ctx.Fail($"{name} has {v.Length} values; X has {cols} columns");

    /// <summary>(x - offset) * scale in float.</summary>
    private sealed class ScalerKernel(double[] offset, double[] scale) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var (rows, cols) = x.Rank == 0 ? (1, 1) : (x.Length / Math.Max(1, x.Dims[^1]), x.Dims[^1]);
            var v = ImageNumerics.ToDoubles(x);
            var y = ctx.AllocateOutput(0, DataType.Float, x.Shape).AsSpan<float>();
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                {
                    double o = offset.Length == 0 ? 0 : PerColumn(ctx, offset, c, cols, "offset");
                    double s = scale.Length == 0 ? 1 : PerColumn(ctx, scale, c, cols, "scale");
                    y[r * cols + c] = (float)(((float)v[r * cols + c] - (float)o) * (float)s);
                }
        }
    }

    /// <summary>Each row divided by its max (MAX), sum of absolute values (L1) or Euclidean norm (L2); a zero norm leaves the row.</summary>
    private sealed class NormalizerKernel(string norm) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var (rows, cols) = Matrix(ctx, x);
            var v = ImageNumerics.ToDoubles(x);
            var y = ctx.AllocateOutput(0, DataType.Float, x.Shape).AsSpan<float>();
            for (int r = 0; r < rows; r++)
            {
                var row = v.AsSpan(r * cols, cols);
                double d = 0;
                switch (norm)
                {
                    case "MAX": d = double.MinValue; foreach (var e in row) d = Math.Max(d, e); break;
                    case "L1": foreach (var e in row) d += Math.Abs(e); break;
                    default: foreach (var e in row) d += e * e; d = Math.Sqrt(d); break;
                }
                for (int c = 0; c < cols; c++) y[r * cols + c] = (float)(d != 0 ? row[c] / d : row[c]);
            }
        }
    }

    /// <summary>Replaces the marker value (replaced_value_float, default 0; NaN matches NaN) by a value per column.</summary>
    private sealed class ImputerKernel : Kernel
    {
        private readonly double[] _floats, _ints;
        private readonly float _replacedFloat;
        private readonly long _replacedInt;

        public ImputerKernel(KernelInfo info)
        {
            _floats = info.GetFloats("imputed_value_floats")?.Select(f => (double)f).ToArray() ?? [];
            _ints = info.GetInts("imputed_value_int64s")?.Select(i => (double)i).ToArray() ?? [];
            _replacedFloat = info.GetFloat("replaced_value_float", 0f); // the spec's default; NaN must be asked for
            _replacedInt = info.GetInt("replaced_value_int64", 0);
            if (_floats.Length == 0 && _ints.Length == 0) throw info.Fail("imputed_value_floats or imputed_value_int64s is required");
        }

        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            int cols = x.Rank == 0 ? 1 : x.Dims[^1];
            var y = ctx.AllocateOutput(0, x.DataType, x.Shape);
            if (x.DataType == DataType.Int64)
            {
                var src = x.AsReadOnlySpan<long>();
                var dst = y.AsSpan<long>();
                for (int i = 0; i < src.Length; i++)
                    dst[i] = src[i] == _replacedInt ? (long)PerColumn(ctx, _ints, i % cols, cols, "imputed_value_int64s") : src[i];
                return;
            }
            if (x.DataType != DataType.Float) throw ctx.Fail($"X is {x.DataType.Name()}; Imputer takes float or int64");
            var fs = x.AsReadOnlySpan<float>();
            var fd = y.AsSpan<float>();
            bool nan = float.IsNaN(_replacedFloat);
            for (int i = 0; i < fs.Length; i++)
                fd[i] = (nan ? float.IsNaN(fs[i]) : fs[i] == _replacedFloat) ? (float)PerColumn(ctx, _floats, i % cols, cols, "imputed_value_floats") : fs[i];
        }
    }

    /// <summary>Appends a one-hot axis over the categories; numbers are truncated to int64 and looked up in cats_int64s.</summary>
    private sealed class OneHotEncoderKernel : Kernel
    {
        private readonly Dictionary<long, int>? _ints;
        private readonly Dictionary<string, int>? _strings;
        private readonly bool _zeros;
        private readonly int _count;

        public OneHotEncoderKernel(KernelInfo info)
        {
            if (info.GetInts("cats_int64s") is { Length: > 0 } ints)
            {
                _ints = [];
                for (int i = 0; i < ints.Length; i++) _ints.TryAdd(ints[i], i);
                _count = ints.Length;
            }
            else if (info.Node.GetAttribute("cats_strings")?.AsStrings() is { Length: > 0 } strings)
            {
                _strings = [];
                for (int i = 0; i < strings.Length; i++) _strings.TryAdd(strings[i], i);
                _count = strings.Length;
            }
            else throw info.Fail("cats_int64s or cats_strings is required");
            _zeros = info.GetInt("zeros", 1) != 0;
        }

        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var y = ctx.AllocateOutput(0, DataType.Float, [.. x.Shape, _count]).AsSpan<float>();
            for (int i = 0; i < x.Length; i++)
            {
                int at = -1;
                string shown;
                if (x.DataType == DataType.String)
                {
                    string s = x.AsReadOnlySpan<string>()[i];
                    shown = s;
                    if (_strings is null) throw ctx.Fail("string input needs cats_strings");
                    at = _strings.TryGetValue(s, out int k) ? k : -1;
                }
                else
                {
                    if (_ints is null) throw ctx.Fail("numeric input needs cats_int64s");
                    long v = (long)x.GetDouble(i);
                    shown = v.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    at = _ints.TryGetValue(v, out int k) ? k : -1;
                }
                if (at >= 0) y[i * _count + at] = 1;
                else if (!_zeros) throw ctx.Fail($"category '{shown}' is not among the categories (and zeros=0)");
            }
        }
    }

    /// <summary>Concatenates inputs along the last axis, each cut or zero-padded to its inputdimensions entry.</summary>
    private sealed class FeatureVectorizerKernel(int[] dims) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            if (dims.Length != ctx.InputCount) throw ctx.Fail($"inputdimensions has {dims.Length} entries for {ctx.InputCount} inputs");
            var first = ctx.Input(0);
            int rows = first.Rank <= 1 ? 1 : first.Length / Math.Max(1, first.Dims[^1]);
            int total = dims.Sum();
            var y = ctx.AllocateOutput(0, DataType.Float, [rows, total]).AsSpan<float>();
            int offset = 0;
            for (int i = 0; i < dims.Length; i++)
            {
                var x = ctx.Input(i);
                int cols = x.Rank == 0 ? 1 : x.Dims[^1];
                if (x.Length != rows * cols) throw ctx.Fail($"input {i} has {x.Length / Math.Max(1, cols)} rows, input 0 has {rows}");
                var v = ImageNumerics.ToDoubles(x);
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < Math.Min(cols, dims[i]); c++) y[r * total + offset + c] = (float)v[r * cols + c];
                offset += dims[i];
            }
        }
    }
}
