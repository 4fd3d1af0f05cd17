using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>ai.onnx.ml ZipMap: each row of class scores as a map from class label to score.</summary>
[KernelRegistrations]
internal static class MlZipMapKernels
{
    public static void Register(KernelRegistry r) =>
        r.Add("ZipMap", info => new ZipMapKernel(Labels(info)), 1, domain: MlBasicKernels.Domain, types: [DataType.Float]);

    /// <summary>The class labels: exactly one of classlabels_strings and classlabels_int64s.</summary>
    private static (string[]? Strings, long[]? Ints) Labels(KernelInfo info)
    {
        var strings = info.Node.GetAttribute("classlabels_strings")?.AsStrings().ToArray();
        var ints = info.GetInts("classlabels_int64s")?.ToArray();
        if ((strings is null) == (ints is null)) throw info.Fail("exactly one of classlabels_strings and classlabels_int64s must be given");
        return (strings, ints);
    }

    /// <summary>
    /// X [N, C] (or [C], one row) becomes N maps of C entries, keys in label order. As in ONNX Runtime,
    /// the labels must number C, and each map holds its own copy of the row.
    /// </summary>
    private sealed class ZipMapKernel((string[]? Strings, long[]? Ints) labels) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.Rank is not (1 or 2)) throw ctx.Fail($"X has shape {ShapeMath.Format(x.Shape)}; ZipMap takes [N, C] or [C]");
            int rows = x.Rank == 1 ? 1 : x.Dims[0], columns = x.Dims[^1];
            int count = labels.Strings?.Length ?? labels.Ints!.Length;
            if (columns != count) throw ctx.Fail($"X has {columns} columns but there are {count} class labels");
            var values = x.AsReadOnlySpan<float>();
            var maps = new MapValue[rows];
            for (int r = 0; r < rows; r++)
            {
                var row = values.Slice(r * columns, columns).ToArray();
                maps[r] = labels.Strings is { } s ? new MapValue(s, row) : new MapValue(labels.Ints!, row);
            }
            ctx.SetOutput(0, new MapSequence(labels.Strings is null ? DataType.Int64 : DataType.String, maps));
        }
    }
}
