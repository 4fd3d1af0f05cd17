using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// One register-tiled float32 micro-kernel and the tile it computes: <c>C[MR×NR] (+)= Σ_k a[k][MR] ⊗ b[k][NR]</c>
/// over packed panels (A: MR values per k, B: NR values per k). Packing layouts depend on MR and NR, so
/// data packed for one kernel set is only valid with that set.
/// </summary>
internal sealed unsafe class GemmKernelSet
{
    private GemmKernelSet(string name, int mr, int nr, delegate*<float*, float*, float*, nint, int, bool, GemmTileEpilogue*, void> kernel,
        delegate*<float*, float*, int*, float*, nint, int, GemmTileEpilogue*, void> offsetKernel)
    {
        Name = name;
        MR = mr;
        NR = nr;
        Kernel = kernel;
        OffsetKernel = offsetKernel;
    }

    public string Name { get; }
    public int MR { get; }
    public int NR { get; }

    /// <summary>(packedA, packedB, c, ldc, kc, accumulate, epilogue or null): a full MR×NR tile of C.</summary>
    public delegate*<float*, float*, float*, nint, int, bool, GemmTileEpilogue*, void> Kernel { get; }

    /// <summary>(fullDepthA, b, offsets, c, ldc, k, epilogue or null): an MR×NR tile whose B step p is b[offsets[p] + 0..NR) (<see cref="GemmOffsetKernels"/>).</summary>
    public delegate*<float*, float*, int*, float*, nint, int, GemmTileEpilogue*, void> OffsetKernel { get; }

    /// <summary>(rows, packedA, packedB, c, ldc, kc, accumulate, epilogue or null): the first rows (&lt; MR) of a full-width tile, or null (<see cref="GemmRowTailKernels"/>).</summary>
    public delegate*<int, float*, float*, float*, nint, int, bool, GemmTileEpilogue*, void> RowTailKernel { get; private init; }

    /// <summary>
    /// Like <see cref="OffsetKernel"/>, tuned for pointwise layers (each B row one input channel, read left to right):
    /// the set's offset kernel unless it has a variant that prefetches each row's next panel.
    /// </summary>
    public delegate*<float*, float*, int*, float*, nint, int, GemmTileEpilogue*, void> PointwiseOffsetKernel
    {
        get => _pointwiseOffsetKernel != null ? _pointwiseOffsetKernel : OffsetKernel;
        private init => _pointwiseOffsetKernel = value;
    }

    private readonly delegate*<float*, float*, int*, float*, nint, int, GemmTileEpilogue*, void> _pointwiseOffsetKernel;

    /// <summary>Like <see cref="PointwiseOffsetKernel"/>, for weights that come from memory on every run: also prefetches the next row tile's A panel.</summary>
    public delegate*<float*, float*, int*, float*, nint, int, GemmTileEpilogue*, void> LargeWeightsOffsetKernel
    {
        get => _largeWeightsOffsetKernel != null ? _largeWeightsOffsetKernel : PointwiseOffsetKernel;
        private init => _largeWeightsOffsetKernel = value;
    }

    private readonly delegate*<float*, float*, int*, float*, nint, int, GemmTileEpilogue*, void> _largeWeightsOffsetKernel;

    /// <summary>Like <see cref="LargeWeightsOffsetKernel"/> without the next panel's B rows: for images small enough to stay in L2.</summary>
    public delegate*<float*, float*, int*, float*, nint, int, GemmTileEpilogue*, void> LargeWeightsSmallImageOffsetKernel
    {
        get => _largeWeightsSmallImageOffsetKernel != null ? _largeWeightsSmallImageOffsetKernel : LargeWeightsOffsetKernel;
        private init => _largeWeightsSmallImageOffsetKernel = value;
    }

    private readonly delegate*<float*, float*, int*, float*, nint, int, GemmTileEpilogue*, void> _largeWeightsSmallImageOffsetKernel;

    /// <summary>Like <see cref="OffsetKernel"/>, tuned for short k loops (stems, few-channel 3×3 layers): prefetches the next tile's output.</summary>
    public delegate*<float*, float*, int*, float*, nint, int, GemmTileEpilogue*, void> ShortDepthOffsetKernel
    {
        get => _shortDepthOffsetKernel != null ? _shortDepthOffsetKernel : OffsetKernel;
        private init => _shortDepthOffsetKernel = value;
    }

    private readonly delegate*<float*, float*, int*, float*, nint, int, GemmTileEpilogue*, void> _shortDepthOffsetKernel;

    /// <summary>Like <see cref="OffsetKernel"/>, for deep kernels over images larger than L2: prefetches the B rows of later steps.</summary>
    public delegate*<float*, float*, int*, float*, nint, int, GemmTileEpilogue*, void> LargeImageOffsetKernel
    {
        get => _largeImageOffsetKernel != null ? _largeImageOffsetKernel : OffsetKernel;
        private init => _largeImageOffsetKernel = value;
    }

    private readonly delegate*<float*, float*, int*, float*, nint, int, GemmTileEpilogue*, void> _largeImageOffsetKernel;

    /// <summary>Like <see cref="OffsetKernel"/> for the left NR/2 columns only (a last panel with few columns), or null.</summary>
    public delegate*<float*, float*, int*, float*, nint, int, GemmTileEpilogue*, void> HalfOffsetKernel { get; private init; }

    public static readonly GemmKernelSet Portable = new("portable", 4, 2 * Vector<float>.Count, &GemmMicroKernels.Portable, &GemmOffsetKernels.Portable);

    public static readonly GemmKernelSet? Avx2 = Fma.IsSupported && System.Runtime.Intrinsics.X86.Avx2.IsSupported
        ? new("avx2-fma 6x16", 6, 16, &GemmMicroKernels.Avx2Fma6x16, &GemmOffsetKernels.Avx2Fma6x16) : null;

    public static readonly GemmKernelSet? Avx512 = Avx512F.IsSupported
        ? new("avx512 8x32", 8, 32, &GemmMicroKernels.Avx512x8x32, &GemmOffsetKernels.Avx512x8x32<PrefetchOutput>)
        {
            PointwiseOffsetKernel = &GemmOffsetKernels.Avx512x8x32<PrefetchStreams>, LargeWeightsOffsetKernel = &GemmOffsetKernels.Avx512x8x32<PrefetchStreamsAndWeights>,
            LargeWeightsSmallImageOffsetKernel = &GemmOffsetKernels.Avx512x8x32<PrefetchWeights>,
            ShortDepthOffsetKernel = &GemmOffsetKernels.Avx512x8x32<PrefetchNextTile>, LargeImageOffsetKernel = &GemmOffsetKernels.Avx512x8x32<PrefetchTaps>,
            RowTailKernel = &GemmRowTailKernels.Avx512, HalfOffsetKernel = &GemmOffsetKernels.Avx512x8x16,
        } : null;

    /// <summary>The fastest set this CPU supports.</summary>
    public static GemmKernelSet Best { get; } = Avx512 ?? Avx2 ?? Portable;

    [ThreadStatic] private static GemmKernelSet? _forced;

    /// <summary>
    /// Tests only: makes kernels created and run on this thread use a slower set, so every code path runs
    /// on a machine that supports the fastest. Null restores <see cref="Best"/>. Kernels read
    /// <see cref="Current"/> on the calling thread and hand it to their worker parts.
    /// </summary>
    internal static GemmKernelSet? Forced { get => _forced; set => _forced = value; }

    /// <summary>The set kernels use: <see cref="Best"/> unless a test forced another.</summary>
    public static GemmKernelSet Current => _forced ?? Best;

    /// <summary>True for the sets whose micro-kernels use 512-bit vectors (other fast paths follow this choice).</summary>
    public bool Is512 => ReferenceEquals(this, Avx512);

    /// <summary>True for the sets that may use 256-bit AVX2/FMA intrinsics.</summary>
    public bool IsAvx2OrBetter => ReferenceEquals(this, Avx512) || ReferenceEquals(this, Avx2);

    /// <summary>Every set this CPU supports (tests run each).</summary>
    public static IEnumerable<GemmKernelSet> Supported => new[] { Avx512, Avx2, Portable }.Where(k => k is not null)!;

    public override string ToString() => Name;
}

/// <summary>
/// The micro-kernels. Each is a small method without calls, so RyuJIT keeps every accumulator in a
/// vector register for the whole k loop. With an epilogue (<see cref="GemmTileEpilogue"/>, on the last
/// depth block only) the tile gets its bias, residual and clamp before its single store.
/// </summary>
internal static unsafe class GemmMicroKernels
{

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512x8x32(float* a, float* b, float* c, nint ldc, int kc, bool accumulate, GemmTileEpilogue* ep)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(a0, b0, c00); c01 = Avx512F.FusedMultiplyAdd(a0, b1, c01);
            a0 = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(a0, b0, c10); c11 = Avx512F.FusedMultiplyAdd(a0, b1, c11);
            a0 = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(a0, b0, c20); c21 = Avx512F.FusedMultiplyAdd(a0, b1, c21);
            a0 = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(a0, b0, c30); c31 = Avx512F.FusedMultiplyAdd(a0, b1, c31);
            a0 = Vector512.Create(a[4]);
            c40 = Avx512F.FusedMultiplyAdd(a0, b0, c40); c41 = Avx512F.FusedMultiplyAdd(a0, b1, c41);
            a0 = Vector512.Create(a[5]);
            c50 = Avx512F.FusedMultiplyAdd(a0, b0, c50); c51 = Avx512F.FusedMultiplyAdd(a0, b1, c51);
            a0 = Vector512.Create(a[6]);
            c60 = Avx512F.FusedMultiplyAdd(a0, b0, c60); c61 = Avx512F.FusedMultiplyAdd(a0, b1, c61);
            a0 = Vector512.Create(a[7]);
            c70 = Avx512F.FusedMultiplyAdd(a0, b0, c70); c71 = Avx512F.FusedMultiplyAdd(a0, b1, c71);
            a += 8;
            b += 32;
        }
        if (accumulate)
        {
            c00 += Vector512.Load(c); c01 += Vector512.Load(c + 16);
            c10 += Vector512.Load(c + ldc); c11 += Vector512.Load(c + ldc + 16);
            c20 += Vector512.Load(c + 2 * ldc); c21 += Vector512.Load(c + 2 * ldc + 16);
            c30 += Vector512.Load(c + 3 * ldc); c31 += Vector512.Load(c + 3 * ldc + 16);
            c40 += Vector512.Load(c + 4 * ldc); c41 += Vector512.Load(c + 4 * ldc + 16);
            c50 += Vector512.Load(c + 5 * ldc); c51 += Vector512.Load(c + 5 * ldc + 16);
            c60 += Vector512.Load(c + 6 * ldc); c61 += Vector512.Load(c + 6 * ldc + 16);
            c70 += Vector512.Load(c + 7 * ldc); c71 += Vector512.Load(c + 7 * ldc + 16);
        }
        if (ep != null)
        {
            var f = new TileFinish512(ep);
            c00 = f.At(c00, 0, 0);
            c01 = f.At(c01, 0, 16);
            c10 = f.At(c10, 1, 0);
            c11 = f.At(c11, 1, 16);
            c20 = f.At(c20, 2, 0);
            c21 = f.At(c21, 2, 16);
            c30 = f.At(c30, 3, 0);
            c31 = f.At(c31, 3, 16);
            c40 = f.At(c40, 4, 0);
            c41 = f.At(c41, 4, 16);
            c50 = f.At(c50, 5, 0);
            c51 = f.At(c51, 5, 16);
            c60 = f.At(c60, 6, 0);
            c61 = f.At(c61, 6, 16);
            c70 = f.At(c70, 7, 0);
            c71 = f.At(c71, 7, 16);
        }
        c00.Store(c); c01.Store(c + 16);
        c10.Store(c + ldc); c11.Store(c + ldc + 16);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 16);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 16);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 16);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 16);
        c60.Store(c + 6 * ldc); c61.Store(c + 6 * ldc + 16);
        c70.Store(c + 7 * ldc); c71.Store(c + 7 * ldc + 16);
    }


    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2Fma6x16(float* a, float* b, float* c, nint ldc, int kc, bool accumulate, GemmTileEpilogue* ep)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(a0, b0, c00); c01 = Fma.MultiplyAdd(a0, b1, c01);
            a0 = Vector256.Create(a[1]);
            c10 = Fma.MultiplyAdd(a0, b0, c10); c11 = Fma.MultiplyAdd(a0, b1, c11);
            a0 = Vector256.Create(a[2]);
            c20 = Fma.MultiplyAdd(a0, b0, c20); c21 = Fma.MultiplyAdd(a0, b1, c21);
            a0 = Vector256.Create(a[3]);
            c30 = Fma.MultiplyAdd(a0, b0, c30); c31 = Fma.MultiplyAdd(a0, b1, c31);
            a0 = Vector256.Create(a[4]);
            c40 = Fma.MultiplyAdd(a0, b0, c40); c41 = Fma.MultiplyAdd(a0, b1, c41);
            a0 = Vector256.Create(a[5]);
            c50 = Fma.MultiplyAdd(a0, b0, c50); c51 = Fma.MultiplyAdd(a0, b1, c51);
            a += 6;
            b += 16;
        }
        if (accumulate)
        {
            c00 += Vector256.Load(c); c01 += Vector256.Load(c + 8);
            c10 += Vector256.Load(c + ldc); c11 += Vector256.Load(c + ldc + 8);
            c20 += Vector256.Load(c + 2 * ldc); c21 += Vector256.Load(c + 2 * ldc + 8);
            c30 += Vector256.Load(c + 3 * ldc); c31 += Vector256.Load(c + 3 * ldc + 8);
            c40 += Vector256.Load(c + 4 * ldc); c41 += Vector256.Load(c + 4 * ldc + 8);
            c50 += Vector256.Load(c + 5 * ldc); c51 += Vector256.Load(c + 5 * ldc + 8);
        }
        if (ep != null)
        {
            var f = new TileFinish256(ep);
            c00 = f.At(c00, 0, 0);
            c01 = f.At(c01, 0, 8);
            c10 = f.At(c10, 1, 0);
            c11 = f.At(c11, 1, 8);
            c20 = f.At(c20, 2, 0);
            c21 = f.At(c21, 2, 8);
            c30 = f.At(c30, 3, 0);
            c31 = f.At(c31, 3, 8);
            c40 = f.At(c40, 4, 0);
            c41 = f.At(c41, 4, 8);
            c50 = f.At(c50, 5, 0);
            c51 = f.At(c51, 5, 8);
        }
        c00.Store(c); c01.Store(c + 8);
        c10.Store(c + ldc); c11.Store(c + ldc + 8);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 8);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 8);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 8);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 8);
    }

    /// <summary>4 × (2 vectors) with <see cref="Vector{T}"/>, for CPUs without AVX2/FMA.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Portable(float* a, float* b, float* c, nint ldc, int kc, bool accumulate, GemmTileEpilogue* ep)
    {
        int w = Vector<float>.Count;
        Vector<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Unsafe.ReadUnaligned<Vector<float>>(b);
            var b1 = Unsafe.ReadUnaligned<Vector<float>>(b + w);
            var a0 = new Vector<float>(a[0]);
            c00 = c00 + a0 * b0; c01 = c01 + a0 * b1;
            var a1 = new Vector<float>(a[1]);
            c10 = c10 + a1 * b0; c11 = c11 + a1 * b1;
            var a2 = new Vector<float>(a[2]);
            c20 = c20 + a2 * b0; c21 = c21 + a2 * b1;
            var a3 = new Vector<float>(a[3]);
            c30 = c30 + a3 * b0; c31 = c31 + a3 * b1;
            a += 4;
            b += 2 * w;
        }
        if (accumulate)
        {
            c00 += Unsafe.ReadUnaligned<Vector<float>>(c); c01 += Unsafe.ReadUnaligned<Vector<float>>(c + w);
            c10 += Unsafe.ReadUnaligned<Vector<float>>(c + ldc); c11 += Unsafe.ReadUnaligned<Vector<float>>(c + ldc + w);
            c20 += Unsafe.ReadUnaligned<Vector<float>>(c + 2 * ldc); c21 += Unsafe.ReadUnaligned<Vector<float>>(c + 2 * ldc + w);
            c30 += Unsafe.ReadUnaligned<Vector<float>>(c + 3 * ldc); c31 += Unsafe.ReadUnaligned<Vector<float>>(c + 3 * ldc + w);
        }
        if (ep != null)
        {
            var f = new TileFinishVector(ep);
            c00 = f.At(c00, 0, 0);
            c01 = f.At(c01, 0, w);
            c10 = f.At(c10, 1, 0);
            c11 = f.At(c11, 1, w);
            c20 = f.At(c20, 2, 0);
            c21 = f.At(c21, 2, w);
            c30 = f.At(c30, 3, 0);
            c31 = f.At(c31, 3, w);
        }
        Unsafe.WriteUnaligned(c, c00); Unsafe.WriteUnaligned(c + w, c01);
        Unsafe.WriteUnaligned(c + ldc, c10); Unsafe.WriteUnaligned(c + ldc + w, c11);
        Unsafe.WriteUnaligned(c + 2 * ldc, c20); Unsafe.WriteUnaligned(c + 2 * ldc + w, c21);
        Unsafe.WriteUnaligned(c + 3 * ldc, c30); Unsafe.WriteUnaligned(c + 3 * ldc + w, c31);
    }
}

/// <summary>The activations a micro-kernel applies itself (the cheap piecewise ones; Sigmoid and Tanh are not).</summary>
internal enum TileActivation : byte { None, Clamp, HardSigmoid, HardSwish, LeakyRelu }

/// <summary>
/// What a micro-kernel does to a finished tile before storing it: adds bias[row] and residual[row·ldr + col]
/// (either may be null), then applies <see cref="Mode"/> — Clamp to [Lo, Hi] (Relu is [0, ∞)), HardSigmoid
/// clamp(A·v + B, Lo, Hi), HardSwish v·clamp(A·v + B, Lo, Hi), LeakyRelu v ≥ 0 ? v : A·v. Pointers are at the
/// tile's first row and column.
/// </summary>
internal unsafe struct GemmTileEpilogue
{
    public float* Bias;
    public float* Residual;
    public nint Ldr;
    public float Lo, Hi, A, B;
    public TileActivation Mode;
}
