using System.Numerics;
using System.Numerics.Tensors;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>RNN, GRU and LSTM (opset 7+): one layer, forward, reverse or bidirectional, with sequence_lens and layout.</summary>
[KernelRegistrations]
internal static class RecurrentKernels
{
    private static readonly DataType[] FloatTypes = [DataType.Float, DataType.Double, DataType.Float16, DataType.BFloat16];

    public static void Register(KernelRegistry r)
    {
        r.Add("RNN", info => new RecurrentKernel(RecurrentOptions.Parse(info, RecurrentKind.Rnn)), 7, types: FloatTypes);
        r.Add("GRU", info => new RecurrentKernel(RecurrentOptions.Parse(info, RecurrentKind.Gru)), 7, types: FloatTypes);
        r.Add("LSTM", info => new RecurrentKernel(RecurrentOptions.Parse(info, RecurrentKind.Lstm)), 7, types: FloatTypes);
    }

    /// <summary>
    /// Runs each direction over the time steps; batch rows whose sequence_lens are shorter stop early
    /// (reverse directions start from their own last valid step), leave zeros in Y past their length,
    /// and report their last computed state in Y_h / Y_c (zeros for an empty sequence).
    /// </summary>
    private sealed class RecurrentKernel(RecurrentOptions o) : Kernel
    {
        private bool IsLstm => o.Kind == RecurrentKind.Lstm;

        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (SequenceNumerics.ComputesInDouble(x.DataType)) Run<double>(ctx, x);
            else Run<float>(ctx, x);
        }

        private void Run<T>(KernelContext ctx, Tensor x) where T : struct, IFloatingPointIeee754<T>
        {
            Tensor w = ctx.Input(1), r = ctx.Input(2);
            if (x.Rank != 3) throw ctx.Fail($"X must be 3-D, got shape {ShapeMath.Format(x.Shape)}");
            int dirs = o.Directions, gates = o.Kind.Gates();
            int seq = o.BatchFirst ? x.Shape[1] : x.Shape[0], batch = o.BatchFirst ? x.Shape[0] : x.Shape[1], input = x.Shape[2];
            int hidden = o.HiddenSize > 0 ? o.HiddenSize : r.Rank == 3 ? r.Shape[2] : 0;
            var layout = new RecurrentLayout(o.BatchFirst, seq, batch, dirs, hidden);
            int gh = gates * hidden;

            Expect(ctx, w, "W", dirs, gh, input);
            Expect(ctx, r, "R", dirs, gh, hidden);
            var bias = ctx.OptionalInput(3);
            if (bias is not null) Expect(ctx, bias, "B", dirs, 2 * gh);
            int[] lens = SequenceLengths(ctx, ctx.OptionalInput(4), seq, batch);
            var h = InitialState<T>(ctx, ctx.OptionalInput(5), "initial_h", layout);
            var c = IsLstm ? InitialState<T>(ctx, ctx.OptionalInput(6), "initial_c", layout) : null;
            var peep = IsLstm ? ctx.OptionalInput(7) : null;
            if (peep is not null) Expect(ctx, peep, "P", dirs, 3 * hidden);

            T[] xs = SequenceNumerics.Read<T>(x), ws = SequenceNumerics.Read<T>(w), rs = SequenceNumerics.Read<T>(r);
            T[] bs = bias is null ? new T[dirs * 2 * gh] : SequenceNumerics.Read<T>(bias);
            T[]? ps = peep is null ? null : SequenceNumerics.Read<T>(peep);
            var y = ctx.IsOutputRequested(0) ? new T[seq * dirs * batch * hidden] : null;
            var xw = new T[seq * batch * gh];
            var none = new T[hidden];

            for (int d = 0; d < dirs; d++)
            {
                // Input projection for every (step, batch) row at once, rows in X's storage order.
                SequenceNumerics.MatMulTransposedB<T>(xs, input, ws.AsSpan(d * gh * input, gh * input), input, xw, gh, seq * batch, gh, input, accumulate: false);
                var wb = bs.AsSpan(d * 2 * gh, gh);
                for (int row = 0; row < seq * batch; row++) TensorPrimitives.Add(xw.AsSpan(row * gh, gh), wb, xw.AsSpan(row * gh, gh));

                var cell = CreateCell(d, hidden, rs.AsSpan(d * gh * hidden, gh * hidden).ToArray(), bs.AsSpan(d * 2 * gh + gh, gh).ToArray(),
                    ps?.AsSpan(d * 3 * hidden, 3 * hidden).ToArray());
                bool reverse = d == 1 || !o.Forward;
                for (int b = 0; b < batch; b++)
                {
                    var hs = h.AsSpan(layout.State(d, b), hidden);
                    var cs = c is null ? none : c.AsSpan(layout.State(d, b), hidden);
                    for (int step = 0; step < lens[b]; step++)
                    {
                        int t = reverse ? lens[b] - 1 - step : step;
                        cell.Step(xw.AsSpan(layout.XRow(t, b) * gh, gh), hs, cs);
                        if (y is not null) hs.CopyTo(y.AsSpan(layout.Y(t, d, b), hidden));
                    }
                    if (lens[b] == 0) { hs.Clear(); cs.Clear(); }
                }
            }

            if (y is not null) SequenceNumerics.Write<T>(ctx, 0, x.DataType, layout.YShape, y);
            SequenceNumerics.Write<T>(ctx, 1, x.DataType, layout.StateShape, h);
            if (c is not null) SequenceNumerics.Write<T>(ctx, 2, x.DataType, layout.StateShape, c);
        }

        private RecurrentCell<T> CreateCell<T>(int d, int hidden, T[] r, T[] rb, T[]? p) where T : struct, IFloatingPointIeee754<T> => o.Kind switch
        {
            RecurrentKind.Rnn => new RnnCell<T>(hidden, r, rb, o.Clip, o.Activations[d]),
            RecurrentKind.Gru => new GruCell<T>(hidden, r, rb, o.Clip, o.Activations[d], o.LinearBeforeReset),
            _ => new LstmCell<T>(hidden, r, rb, o.Clip, o.Activations[d], p, o.InputForget),
        };

        private static void Expect(KernelContext ctx, Tensor t, string name, params int[] shape)
        {
            if (!t.Shape.SequenceEqual(shape))
                throw ctx.Fail($"{name} has shape {ShapeMath.Format(t.Shape)}, expected {ShapeMath.Format(shape)}");
            if (!SequenceNumerics.IsSupportedFloat(t.DataType)) throw ctx.Fail($"{name} must be floating point, got {t.DataType.Name()}");
        }

        private static int[] SequenceLengths(KernelContext ctx, Tensor? lens, int seq, int batch)
        {
            if (lens is null) return Enumerable.Repeat(seq, batch).ToArray();
            if (!lens.Shape.SequenceEqual([batch])) throw ctx.Fail($"sequence_lens has shape {ShapeMath.Format(lens.Shape)}, expected [{batch}]");
            var r = new int[batch];
            for (int b = 0; b < batch; b++)
            {
                long n = lens.DataType switch
                {
                    DataType.Int32 => lens.AsSpan<int>()[b],
                    DataType.Int64 => lens.AsSpan<long>()[b],
                    _ => throw ctx.Fail($"sequence_lens must be int32, got {lens.DataType.Name()}"),
                };
                if (n < 0 || n > seq) throw ctx.Fail($"sequence_lens[{b}] = {n} is outside [0, {seq}]");
                r[b] = (int)n;
            }
            return r;
        }

        private static T[] InitialState<T>(KernelContext ctx, Tensor? t, string name, RecurrentLayout layout) where T : struct, IFloatingPointIeee754<T>
        {
            if (t is null) return new T[layout.Directions * layout.Batch * layout.Hidden];
            Expect(ctx, t, name, layout.StateShape);
            return SequenceNumerics.Read<T>(t);
        }
    }
}
