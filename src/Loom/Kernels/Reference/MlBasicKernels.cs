using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>ai.onnx.ml Binarizer and ArrayFeatureExtractor.</summary>
[KernelRegistrations]
internal static class MlBasicKernels
{
    public const string Domain = "ai.onnx.ml";

    public static void Register(KernelRegistry r)
    {
        // The spec's default threshold is 0 (ONNX Runtime's kernel defaults to 1; Loom follows the spec).
        r.Add("Binarizer", info => new BinarizerKernel(info.GetFloat("threshold", 0f)), 1, domain: Domain);
        r.Add("ArrayFeatureExtractor", _ => new ArrayFeatureExtractorKernel(), 1, domain: Domain);
    }

    /// <summary>1 where x &gt; threshold, else 0, in x's dtype. NaN is an error, as in ONNX Runtime.</summary>
    private sealed class BinarizerKernel(double threshold) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (!ImageNumerics.IsNumeric(x.DataType)) throw ctx.Fail($"Binarizer does not accept {x.DataType.Name()}");
            var v = ImageNumerics.ToDoubles(x);
            for (int i = 0; i < v.Length; i++)
            {
                if (double.IsNaN(v[i])) throw ctx.Fail($"input element {i} is NaN");
                v[i] = v[i] > threshold ? 1 : 0;
            }
            ImageNumerics.Store(v, ctx.AllocateOutput(0, x.DataType, x.Shape));
        }
    }

    /// <summary>Selects indices (flattened) along the last axis; a 1-D input gives a [1, k] output, as ONNX Runtime does.</summary>
    private sealed class ArrayFeatureExtractorKernel : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var indices = ImageNumerics.ReadLongs(ctx.Input(1));
            if (x.Rank == 0) throw ctx.Fail("X must have at least one dimension");
            int last = x.Dims[^1];
            var columns = new int[indices.Length];
            for (int j = 0; j < indices.Length; j++)
            {
                if (indices[j] < 0 || indices[j] >= last) throw ctx.Fail($"index {indices[j]} is out of range for the last dim {last}");
                columns[j] = (int)indices[j];
            }
            int[] outDims = x.Rank == 1 ? [1, columns.Length] : [.. x.Dims[..^1], columns.Length];
            var y = ctx.AllocateOutput(0, x.DataType, outDims);
            ImageGather.Dispatch(x.DataType, new ColumnGather(x, y, columns, last));
        }
    }

    private readonly record struct ColumnGather(Tensor X, Tensor Y, int[] Columns, int Width) : IElementTypeAction
    {
        public void Invoke<T>()
        {
            var src = X.AsReadOnlySpan<T>();
            var dst = Y.AsSpan<T>();
            int rows = Width == 0 ? 0 : src.Length / Width, k = Columns.Length;
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < k; j++)
                    dst[r * k + j] = src[r * Width + Columns[j]];
        }
    }
}
