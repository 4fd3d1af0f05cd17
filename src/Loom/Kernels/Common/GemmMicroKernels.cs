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
    private GemmKernelSet(string name, int mr, int nr, delegate*<float*, float*, float*, nint, int, bool, void> kernel)
    {
        Name = name;
        MR = mr;
        NR = nr;
        Kernel = kernel;
    }

    public string Name { get; }
    public int MR { get; }
    public int NR { get; }

    /// <summary>(packedA, packedB, c, ldc, kc, accumulate): a full MR×NR tile of C.</summary>
    public delegate*<float*, float*, float*, nint, int, bool, void> Kernel { get; }

    public static readonly GemmKernelSet Portable = new("portable", 4, 2 * Vector<float>.Count, &GemmMicroKernels.Portable);

    public static readonly GemmKernelSet? Avx2 = Fma.IsSupported && System.Runtime.Intrinsics.X86.Avx2.IsSupported
        ? new("avx2-fma 6x16", 6, 16, &GemmMicroKernels.Avx2Fma6x16) : null;

    public static readonly GemmKernelSet? Avx512 = Avx512F.IsSupported
        ? new("avx512 8x32", 8, 32, &GemmMicroKernels.Avx512x8x32) : null;

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
/// vector register for the whole k loop.
/// </summary>
internal static unsafe class GemmMicroKernels
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512x8x32(float* a, float* b, float* c, nint ldc, int kc, bool accumulate)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var av = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(av, b0, c00); c01 = Avx512F.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(av, b0, c10); c11 = Avx512F.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(av, b0, c20); c21 = Avx512F.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(av, b0, c30); c31 = Avx512F.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a[4]);
            c40 = Avx512F.FusedMultiplyAdd(av, b0, c40); c41 = Avx512F.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a[5]);
            c50 = Avx512F.FusedMultiplyAdd(av, b0, c50); c51 = Avx512F.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a[6]);
            c60 = Avx512F.FusedMultiplyAdd(av, b0, c60); c61 = Avx512F.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a[7]);
            c70 = Avx512F.FusedMultiplyAdd(av, b0, c70); c71 = Avx512F.FusedMultiplyAdd(av, b1, c71);
            a += 8;
            b += 32;
        }
        if (accumulate)
        {
            c00 += Vector512.Load(c); c01 += Vector512.Load(c + 16); c += ldc;
            c10 += Vector512.Load(c); c11 += Vector512.Load(c + 16); c += ldc;
            c20 += Vector512.Load(c); c21 += Vector512.Load(c + 16); c += ldc;
            c30 += Vector512.Load(c); c31 += Vector512.Load(c + 16); c += ldc;
            c40 += Vector512.Load(c); c41 += Vector512.Load(c + 16); c += ldc;
            c50 += Vector512.Load(c); c51 += Vector512.Load(c + 16); c += ldc;
            c60 += Vector512.Load(c); c61 += Vector512.Load(c + 16); c += ldc;
            c70 += Vector512.Load(c); c71 += Vector512.Load(c + 16);
            c -= 7 * ldc;
        }
        c00.Store(c); c01.Store(c + 16); c += ldc;
        c10.Store(c); c11.Store(c + 16); c += ldc;
        c20.Store(c); c21.Store(c + 16); c += ldc;
        c30.Store(c); c31.Store(c + 16); c += ldc;
        c40.Store(c); c41.Store(c + 16); c += ldc;
        c50.Store(c); c51.Store(c + 16); c += ldc;
        c60.Store(c); c61.Store(c + 16); c += ldc;
        c70.Store(c); c71.Store(c + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2Fma6x16(float* a, float* b, float* c, nint ldc, int kc, bool accumulate)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var av = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[1]);
            c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[2]);
            c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[3]);
            c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[4]);
            c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[5]);
            c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
            a += 6;
            b += 16;
        }
        if (accumulate)
        {
            c00 += Vector256.Load(c); c01 += Vector256.Load(c + 8); c += ldc;
            c10 += Vector256.Load(c); c11 += Vector256.Load(c + 8); c += ldc;
            c20 += Vector256.Load(c); c21 += Vector256.Load(c + 8); c += ldc;
            c30 += Vector256.Load(c); c31 += Vector256.Load(c + 8); c += ldc;
            c40 += Vector256.Load(c); c41 += Vector256.Load(c + 8); c += ldc;
            c50 += Vector256.Load(c); c51 += Vector256.Load(c + 8);
            c -= 5 * ldc;
        }
        c00.Store(c); c01.Store(c + 8); c += ldc;
        c10.Store(c); c11.Store(c + 8); c += ldc;
        c20.Store(c); c21.Store(c + 8); c += ldc;
        c30.Store(c); c31.Store(c + 8); c += ldc;
        c40.Store(c); c41.Store(c + 8); c += ldc;
        c50.Store(c); c51.Store(c + 8);
    }

    /// <summary>4 × (2 vectors) with <see cref="Vector{T}"/>, for CPUs without AVX2/FMA.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Portable(float* a, float* b, float* c, nint ldc, int kc, bool accumulate)
    {
        int w = Vector<float>.Count;
        Vector<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = *(Vector<float>*)b;
            var b1 = *(Vector<float>*)(b + w);
            c00 += new Vector<float>(a[0]) * b0; c01 += new Vector<float>(a[0]) * b1;
            c10 += new Vector<float>(a[1]) * b0; c11 += new Vector<float>(a[1]) * b1;
            c20 += new Vector<float>(a[2]) * b0; c21 += new Vector<float>(a[2]) * b1;
            c30 += new Vector<float>(a[3]) * b0; c31 += new Vector<float>(a[3]) * b1;
            a += 4;
            b += 2 * w;
        }
        if (accumulate)
        {
            c00 += *(Vector<float>*)c; c01 += *(Vector<float>*)(c + w);
            c10 += *(Vector<float>*)(c + ldc); c11 += *(Vector<float>*)(c + ldc + w);
            c20 += *(Vector<float>*)(c + 2 * ldc); c21 += *(Vector<float>*)(c + 2 * ldc + w);
            c30 += *(Vector<float>*)(c + 3 * ldc); c31 += *(Vector<float>*)(c + 3 * ldc + w);
        }
        *(Vector<float>*)c = c00; *(Vector<float>*)(c + w) = c01;
        *(Vector<float>*)(c + ldc) = c10; *(Vector<float>*)(c + ldc + w) = c11;
        *(Vector<float>*)(c + 2 * ldc) = c20; *(Vector<float>*)(c + 2 * ldc + w) = c21;
        *(Vector<float>*)(c + 3 * ldc) = c30; *(Vector<float>*)(c + 3 * ldc + w) = c31;
    }
}
