using Loom.IR;

namespace Loom.Kernels.Common;

/// <summary>
/// ConvTranspose's output size and pads. Explicit pads: out = s·(in−1) + output_padding + (k−1)·d + 1 − pads.
/// With output_shape (or SAME_*, where output_shape = in·s) the total padding follows from the output size
/// and is split with floor division, which can make it negative when the requested output is larger:
/// the extra outputs then hold only the bias.
/// </summary>
internal static class ConvTransposeGeometry
{
    public sealed class Attributes
    {
        public required ConvAttributes Conv { get; init; }
        public long[]? OutputPadding { get; init; }
        public long[]? OutputShape { get; init; }

        public static Attributes Parse(Node node, Func<string, Exception> fail)
        {
            var a = new Attributes
            {
                Conv = ConvAttributes.Parse(node, fail),
                OutputPadding = node.GetInts("output_padding")?.ToArray(),
                OutputShape = node.GetInts("output_shape")?.ToArray(),
            };
            if (a.OutputPadding?.Any(p => p < 0) == true) throw fail("output_padding must not be negative");
            return a;
        }

        public long OutputPaddingAt(int axis) => OutputPadding is { } p ? p[axis] : 0;

        /// <summary>The requested spatial output size of an axis, if output_shape is given (with or without N and C).</summary>
        public long? RequestedOutput(int axis, int rank, Func<string, Exception> fail)
        {
            if (OutputShape is not { } s) return null;
            if (s.Length == rank) return s[axis];
            if (s.Length == rank + 2) return s[axis + 2];
            throw fail($"output_shape has {s.Length} values for {rank} spatial axes");
        }

        public void CheckRank(int rank, Func<string, Exception> fail)
        {
            Conv.CheckRank(rank, fail);
            if (OutputPadding is { } p && p.Length != rank) throw fail($"output_padding has {p.Length} values for {rank} spatial axes");
        }
    }

    /// <summary>
    /// The geometry as the adjoint convolution sees it: its "input" is ConvTranspose's output Y and its
    /// "output" is X, so y = x_position·s − pad + k·d maps X positions and kernel taps onto Y.
    /// </summary>
    public static ConvGeometry Compute(Attributes a, ReadOnlySpan<int> x, ReadOnlySpan<int> kernel, Func<string, Exception> fail)
    {
        int rank = x.Length;
        a.CheckRank(rank, fail);
        var conv = a.Conv;
        var g = new ConvGeometry
        {
            Input = new int[rank], Kernel = kernel.ToArray(), Stride = new int[rank], Dilation = new int[rank],
            PadBegin = new int[rank], PadEnd = new int[rank], Output = x.ToArray(),
        };
        for (int i = 0; i < rank; i++)
        {
            int s = g.Stride[i] = conv.Stride(i), d = g.Dilation[i] = conv.Dilation(i);
            long natural = (long)s * (x[i] - 1) + a.OutputPaddingAt(i) + (long)d * (kernel[i] - 1) + 1;
            long outSize, pb, pe;
            var requested = a.RequestedOutput(i, rank, fail);
            bool same = conv.AutoPad is AutoPad.SameUpper or AutoPad.SameLower;
            if (requested is null && !same)
            {
                pb = conv.PadBegin(i);
                pe = conv.PadEnd(i, rank);
                outSize = natural - pb - pe;
            }
            else
            {
                outSize = requested ?? (long)x[i] * s;
                long total = natural - outSize;
                long half = ConvGeometry.FloorDiv(total, 2);
                (pb, pe) = conv.AutoPad == AutoPad.SameUpper ? (half, total - half) : (total - half, half);
            }
            if (outSize < 0 || outSize > int.MaxValue) throw fail($"spatial axis {i}: output size {outSize} is invalid");
            g.Input[i] = (int)outSize;
            g.PadBegin[i] = (int)pb;
            g.PadEnd[i] = (int)pe;
        }
        return g;
    }

    /// <summary>Output spatial dims over symbolic input dims.</summary>
    public static Dim[] OutputDims(Attributes a, IReadOnlyList<Dim> x, IReadOnlyList<Dim> kernel, Func<string, Exception> fail)
    {
        int rank = x.Count;
        a.CheckRank(rank, fail);
        var conv = a.Conv;
        var r = new Dim[rank];
        for (int i = 0; i < rank; i++)
        {
            if (a.RequestedOutput(i, rank, fail) is { } o) r[i] = o;
            else if (conv.AutoPad is AutoPad.SameUpper or AutoPad.SameLower) r[i] = x[i] * conv.Stride(i);
            else
                r[i] = conv.Stride(i) * (x[i] - 1) + a.OutputPaddingAt(i) + conv.Dilation(i) * (kernel[i] - 1) + 1
                    - conv.PadBegin(i) - conv.PadEnd(i, rank);
        }
        return r;
    }
}
