using Loom.IR;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Conv (opsets 1, 11, 22) for float32, float64, float16 and bfloat16; com.loom FusedConv for float32.</summary>
[KernelRegistrations]
internal static class ConvKernels
{
    public static readonly DataType[] FloatTypes = [DataType.Float, DataType.Double, DataType.Float16, DataType.BFloat16];

    public static void Register(KernelRegistry r)
    {
        r.Add("Conv", info => Guard(FloatTypes, new ConvKernel(info)), 1);
        // Loom's fused form (produced by Passes.FuseConvActivation): Y = activation(Conv(X, W) + B + Z), float32 only.
        r.Add(ConvOps.FusedConv, info => Guard([DataType.Float], new ConvKernel(info, FusedActivation.FromNode(info.Node, info.Fail))), 1, domain: ConvOps.LoomDomain);
    }

    /// <summary>
    /// Checks the dtype of input <paramref name="input"/> when the node runs. Kernels are registered for
    /// every dtype and check at run time, so a node whose input dtype inference could not tell still
    /// gets its kernel.
    /// </summary>
    public static Kernel Guard(DataType[] types, Kernel inner, int input = 0) => new DtypeGuard(types, inner, input);

    /// <summary>Fails unless every given tensor has the dtype of the first.</summary>
    public static void RequireSameDtype(KernelContext ctx, params Tensor?[] tensors)
    {
        var dt = tensors[0]!.DataType;
        foreach (var t in tensors)
            if (t is not null && t.DataType != dt) throw ctx.Fail($"inputs mix {dt.Name()} and {t.DataType.Name()}");
    }

    private sealed class DtypeGuard(DataType[] types, Kernel inner, int input) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var dt = ctx.Input(input).DataType;
            if (Array.IndexOf(types, dt) < 0)
                throw ctx.Fail($"{ctx.Node.OpType} does not support {dt.Name()} input {input} (supported: {string.Join(", ", types.Select(t => t.Name()))})");
            inner.Run(ctx);
        }
    }
}

/// <summary>
/// Conv, and Loom's FusedConv (Conv + bias + optional residual Z + activation in one pass). float32 runs
/// through <see cref="ConvFloat"/> on the session's worker pool; float64 by definition; float16/bfloat16
/// in float32. Constant weights are packed once, per group, when the session is created.
/// </summary>
internal sealed unsafe class ConvKernel : Kernel
{
    private readonly ConvAttributes _attrs;
    private Weights? _weights; // null: the weights are a run-time value (or not float32)
    private readonly bool _weightsComputedOnce;
    private readonly Lock _prepareLock = new();
    private readonly FusedActivation _activation;
    private readonly bool _inputRelu;
    private readonly int[]? _inputChannels; // FusedConv input_channels: conv input channel c reads channel _inputChannels[c] of X
    private readonly bool _spatialMean; // FusedConv spatial_mean (Passes.FuseConvMean): Y [N, M, 1, 1] is the mean over positions
    private readonly ShapeKeyedCache<ConvPlan> _plans = new();

    public ConvKernel(KernelInfo info, FusedActivation activation = default)
    {
        _attrs = ConvAttributes.Parse(info.Node, info.Fail);
        _activation = activation;
        _inputRelu = info.GetString("input_activation", "") switch
        {
            "" => false,
            "Relu" => true,
            var other => throw info.Fail($"input_activation '{other}' is not supported (Relu or none)"),
        };
        if (info.GetInts("input_channels") is { } map)
        {
            _inputChannels = map.Select(v => (int)Math.Clamp(v, -1, int.MaxValue)).ToArray();
            var seen = new bool[_inputChannels.Length];
            foreach (var c in _inputChannels)
            {
                if ((uint)c >= (uint)seen.Length || seen[c]) throw info.Fail($"input_channels must be a permutation of 0..{seen.Length - 1}");
                seen[c] = true;
            }
        }
        _spatialMean = info.GetInt(Passes.FuseConvMean.Attribute, 0) != 0;
        if (_spatialMean && (activation.Kind is not (ActivationKind.None or ActivationKind.Relu) || _inputRelu || _inputChannels is not null))
            throw info.Fail("spatial_mean takes a plain 1×1 convolution with a Relu at most (no input transform)");
        if (info.ConstantInput(1) is { } w) _weights = Weights.Prepare(w, _attrs);
        else _weightsComputedOnce = info.InputComputedOnce(1);
    }

    /// <summary>
    /// Constant float32 weights packed for the GEMM paths: at session creation for an initializer, on the first run for
    /// weights computed once from constants (ConstantOfShape-built weights of test models), which are the same tensor on
    /// every run.
    /// </summary>
    private sealed class Weights
    {
        public required Tensor Constant { get; init; }
        public GemmPackedA[]? Packed { get; init; }
        public GemmPackedA[]? PackedWide { get; init; } // per group, full depth (ConvWideGemm)
        private GemmPackedB? _transposed; // Wᵀ for ConvFewPositions, packed on first use (only late layers need it)
        private ConvWinogradWeights<WinogradF2>? _winograd; // U_ξ for F(2×2), transformed on first use (only layers whose shape takes it)
        private ConvWinogradWeights<WinogradF4>? _winograd4; // U_ξ for F(4×4), likewise
        private ConvMean.Packed? _mean; // W in ConvMean's panels, packed on first use (spatial_mean only)

        public GemmKernelSet? Kernels => PackedWide?[0].Kernels ?? Packed?[0].Kernels;

        public static Weights? Prepare(Tensor w, ConvAttributes attrs)
        {
            if (w is not { DataType: DataType.Float, Rank: >= 3 } || w.Shape[0] % attrs.Group != 0) return null;
            int m = w.Shape[0], mg = m / attrs.Group, kg = m == 0 ? 0 : w.Length / m;
            var ks = GemmKernelSet.Current;
            if (mg < ConvFloat.MinGemmRows || kg == 0) return new Weights { Constant = w };
            fixed (float* pw = w.AsSpan<float>())
            {
                // Convolutions that read B straight from the image want full-depth panels.
                bool wide = WideEligible(attrs, w.Shape, kg, ks);
                var packed = new GemmPackedA[attrs.Group];
                for (int g = 0; g < packed.Length; g++)
                    packed[g] = new GemmPackedA(ks, mg, kg, pw + (long)g * mg * kg, kg, transposed: false, fullDepth: wide);
                // A grouped layer's full-depth panels (at most KC deep) are GemmCore's layout too: its shapes too small to read B
                // from the image (ConvWideGemm.Supports) take the GEMM path on the same packs.
                return new Weights { Constant = w, Packed = wide && attrs.Group == 1 ? null : packed, PackedWide = wide ? packed : null };
            }
        }

        /// <summary>Wᵀ [C × M], packed once (racing runs may both pack; one result is kept).</summary>
        public GemmPackedB Transposed(GemmKernelSet ks)
        {
            if (Volatile.Read(ref _transposed) is { } done) return done;
            int m = Constant.Shape[0], k = Constant.Length / m;
            GemmPackedB packed;
            fixed (float* pw = Constant.AsSpan<float>()) packed = new GemmPackedB(ks, k, m, pw, k, transposed: true);
            return Interlocked.CompareExchange(ref _transposed, packed, null) ?? packed;
        }

        /// <summary>W packed for <see cref="ConvMean"/>, once (racing runs may both pack; one result is kept).</summary>
        public ConvMean.Packed Mean()
        {
            if (Volatile.Read(ref _mean) is { } done) return done;
            int m = Constant.Shape[0], k = Constant.Length / m;
            ConvMean.Packed packed;
            fixed (float* pw = Constant.AsSpan<float>()) packed = new ConvMean.Packed(pw, m, k);
            return Interlocked.CompareExchange(ref _mean, packed, null) ?? packed;
        }

        /// <summary>
        /// The Winograd-domain weights, transformed once on first use (racing runs may both transform; one result is kept):
        /// the plane size that decides the path is known only at run time, and 3×3 layers that never take it keep their memory.
        /// </summary>
        public ConvWinogradWeights<WinogradF2> Winograd(GemmKernelSet ks) => WinogradOnce(ref _winograd, ks);

        /// <summary>F(4×4)'s Winograd-domain weights, transformed once on first use like <see cref="Winograd"/>.</summary>
        public ConvWinogradWeights<WinogradF4> Winograd4(GemmKernelSet ks) => WinogradOnce(ref _winograd4, ks);

        private ConvWinogradWeights<T> WinogradOnce<T>(ref ConvWinogradWeights<T>? field, GemmKernelSet ks) where T : struct, IWinogradTiles
        {
            if (Volatile.Read(ref field) is { } done) return done;
            int m = Constant.Shape[0], c = Constant.Shape[1];
            ConvWinogradWeights<T> u;
            fixed (float* pw = Constant.AsSpan<float>()) u = new ConvWinogradWeights<T>(ks, m, c, pw);
            return Interlocked.CompareExchange(ref field, u, null) ?? u;
        }
    }

    /// <summary>The packed weights, preparing computed-once weights on their first run (under a lock: runs may be concurrent).</summary>
    private Weights? WeightsFor(Tensor w)
    {
        // Computed-once weights are the same buffer on every run; anything else (never expected) runs unpacked.
        if (Volatile.Read(ref _weights) is { } ready)
            return !_weightsComputedOnce || ReferenceEquals(ready.Constant.Buffer, w.Buffer) && ready.Constant.Offset == w.Offset ? ready : null;
        if (!_weightsComputedOnce) return null;
        lock (_prepareLock)
        {
            if (_weights is null) Volatile.Write(ref _weights, Weights.Prepare(w, _attrs));
            return _weights;
        }
    }

    /// <summary>Whether <see cref="RunFloat"/> takes the implicit-GEMM path (<see cref="ConvWideGemm"/>) for this plan.</summary>
    private static bool WideRuns(ConvProblem p, Conv3D g, ConvWideGemm.Layout? wide, Weights? weights) =>
        wide is not null && weights?.PackedWide is { } packed && !ConvFewPositions.Worth(g, p.Group, p.OutChannels, packed[0].Kernels, wide);

    /// <summary>Tests and A/B runs only: false sends stems to the paths they took before <see cref="ConvStem512"/>.</summary>
    internal static bool s_stem = Environment.GetEnvironmentVariable("LOOM_NO_STEM") != "1";

    /// <summary>float32: the path for this node and shape (see docs/architecture.md).</summary>
    private void RunFloat(ConvProblem p, Conv3D g, ConvWideGemm.Layout? wide, ConvBuffers buffers, Weights? weights, Runtime.Threading.WorkerPool pool)
    {
        // A channel map the depthwise kernels do not read themselves: the mapped copy of X first (one pass, as the shuffle was).
        if (buffers.Input.HasMap && !ConvFloat.IsDepthwise(p, g)) buffers = ConvInputTransform.Materialize(buffers, p.Batch, p.Channels, g.InputSize, pool);
        var ks = weights?.Kernels;
        if (s_stem && ConvStem512.Supports(p, g, buffers.Input)) // few-channel stride-2 stems, direct (shape only)
            ConvStem512.Run(p, g, buffers, _activation, pool);
        else if (ks is not null && ConvWinograd4.Worth(p, g)) // F(4×4) on large planes, else F(2×2) (shape only)
            ConvWinograd<WinogradF4>.Run(p, g, weights!.Winograd4(ks), buffers, _activation, pool);
        else if (ks is not null && ConvWinograd.Worth(p, g, ks))
            ConvWinograd<WinogradF2>.Run(p, g, weights!.Winograd(ks), buffers, _activation, pool);
        else if (ks is not null && ConvFewPositions.Worth(g, p.Group, p.OutChannels, ks, wide))
            ConvFewPositions.Run(p, g, weights!.Transposed(ks), wide, buffers, _activation, pool);
        else if (wide is not null) ConvWideGemm.Run(p, g, wide, weights!.PackedWide!, buffers, _activation, pool);
        else ConvFloat.Run(p, g, buffers, weights?.Packed, _activation, pool);
    }

    /// <summary>spatial_mean: Y [N, M, 1, …] = the mean over positions of act(Conv(X, W) + B), by <see cref="ConvMean"/>.</summary>
    private void RunMean(KernelContext ctx, Tensor x, Tensor w, Tensor? b, Tensor? extra, ConvPlan plan, Weights? weights)
    {
        var (p, g, _) = plan;
        if (x.DataType != DataType.Float || extra is not null || p.Group != 1 || !g.IsPointwise)
            throw ctx.Fail("spatial_mean takes a float32 1×1 convolution, stride 1, no padding, one group, no residual or input transform");
        if (g.InputSize == 0 && p.Batch * p.OutChannels > 0) throw ctx.Fail("spatial_mean over an empty plane");
        var y = ctx.AllocateOutput(0, x.DataType, plan.MeanShape, clear: false);
        if (y.Length == 0) return;
        var packed = ConvMean.Wide && weights is not null ? weights.Mean() : null;
        fixed (float* px = x.AsSpan<float>(), pw = w.AsSpan<float>(), pb = b is null ? default : b.AsSpan<float>(), py = y.AsSpan<float>())
            ConvMean.Run(px, pw, packed, pb, py, p.Batch, p.OutChannels, p.Channels, g.InputSize, _activation.Kind == ActivationKind.Relu, ctx.Pool);
    }

    /// <summary>
    /// What <see cref="ConvWideGemm.Supports"/> will say at run time, from the attributes alone. (A strided 1×1 kernel reads
    /// one phase plane, the subsampled image, which the wide layout copies alone.)
    /// </summary>
    private static bool WideEligible(ConvAttributes a, ReadOnlySpan<int> w, int groupDepth, GemmKernelSet ks) =>
        (a.Group == 1 || ConvWideGemm.Grouped(groupDepth / w[1], groupDepth)) && w.Length is 3 or 4 && ks.OffsetKernel != null;

    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        var w = ctx.Input(1);
        var b = ctx.OptionalInput(2);
        var z = ctx.InputCount > 3 ? ctx.OptionalInput(3) : null;
        var inScale = ctx.InputCount > 4 ? ctx.OptionalInput(4) : null;
        var inShift = ctx.InputCount > 5 ? ctx.OptionalInput(5) : null;
        if (x.DataType != w.DataType || (b is not null && b.DataType != x.DataType) || (z is not null && z.DataType != x.DataType))
            ConvKernels.RequireSameDtype(ctx, x, w, b, z);
        if (x.DataType != DataType.Float && (z is not null || inScale is not null || _inputChannels is not null || _activation.Kind != ActivationKind.None))
            throw ctx.Fail($"FusedConv supports float32 only, not {x.DataType.Name()}");
        var weights = WeightsFor(w);
        var plan = _plans.Get(x.Shape, w.Shape, (_attrs, ctx, weights?.PackedWide?[0].Kernels), static s => ConvPlan.Create(s._attrs, s.ctx, s.Item3));
        var (p, g, wide) = plan;
        if (b is not null && (b.Rank != 1 || b.Length != p.OutChannels))
            throw ctx.Fail($"bias has shape {ShapeMath.Format(b.Shape)}; expected [{p.OutChannels}]");
        if (z is not null && !z.Shape.SequenceEqual(p.OutputShape))
            throw ctx.Fail($"residual Z has shape {ShapeMath.Format(z.Shape)}; expected the output shape {ShapeMath.Format(p.OutputShape)}");
        if ((inScale is null) != (inShift is null) || inScale is not null && (inScale.DataType != DataType.Float || inShift!.DataType != DataType.Float
            || inScale.Length != p.Channels || inShift.Length != p.Channels))
            throw ctx.Fail($"input scale and shift must both be given, float32 with {p.Channels} values (one per input channel)");
        if (_inputChannels is not null && _inputChannels.Length != p.Channels)
            throw ctx.Fail($"input_channels has {_inputChannels.Length} values; the input has {p.Channels} channels");
        if (_spatialMean)
        {
            RunMean(ctx, x, w, b, z ?? inScale, plan, weights);
            return;
        }
        // A residual nothing reads afterwards holds the output too (ResNet's blocks): the implicit GEMM reads each residual
        // element in its epilogue before it stores that element, so one stream goes through the caches instead of two.
        var y = z is not null && x.DataType == DataType.Float && WideRuns(p, g, wide, weights) ? ctx.TryAllocateOutputInPlace(0, 3) : null;
        y ??= ctx.AllocateOutput(0, x.DataType, p.OutputShape, clear: false);
        if (y.Length == 0) return;
        switch (x.DataType)
        {
            case DataType.Float:
                fixed (float* px = x.AsSpan<float>(), pw = w.AsSpan<float>(), pb = b is null ? default : b.AsSpan<float>(),
                    pz = z is null ? default : z.AsSpan<float>(), py = y.AsSpan<float>(),
                    ps = inScale is null ? default : inScale.AsSpan<float>(), pt = inShift is null ? default : inShift.AsSpan<float>())
                fixed (int* pm = _inputChannels)
                    RunFloat(p, g, wide, new ConvBuffers(px, pw, pb, pz, py, new ChannelTransform(ps, pt, _inputRelu, pm)), weights, ctx.Pool);
                break;
            case DataType.Double:
                ConvDirect.Run<double>(x.AsSpan<double>(), w.AsSpan<double>(), b is null ? default : b.AsSpan<double>(), y.AsSpan<double>(),
                    p.Batch, p.Channels, p.OutChannels, p.Group, g);
                break;
            default:
                var yf = new float[y.Length];
                var bf = b is null ? null : GemmFloatData.ToFloat(b);
                fixed (float* px = GemmFloatData.ToFloat(x), pw = GemmFloatData.ToFloat(w), pb = bf, py = yf)
                    ConvFloat.Run(p, g, new ConvBuffers(px, pw, pb, null, py), null, FusedActivation.None, ctx.Pool);
                GemmFloatData.FromFloat(yf, y);
                break;
        }
    }
}
