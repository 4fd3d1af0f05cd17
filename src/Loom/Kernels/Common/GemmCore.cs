using System.Runtime.CompilerServices;
using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>
/// The one float32 matrix multiply of Loom: <c>C[m×n] = op(A)[m×k] · op(B)[k×n]</c>, or added to C.
/// BLIS-style: B is packed in KC×NC blocks (kept in L2/L3), A in MC×KC blocks (L2), and a register-tiled
/// micro-kernel (<see cref="GemmKernelSet"/>) walks MR×NR tiles whose B micro-panel stays in L1.
/// Operands come through <see cref="IGemmA"/>/<see cref="IGemmB"/>, so transposes, pre-packed weights and
/// im2col (implicit GEMM) are all handled while packing; alpha is applied while packing A. An
/// <see cref="IGemmEpilogue"/> (bias, residual, activation) runs on each finished tile while it is in L1.
/// With a <see cref="WorkerPool"/>, C is cut into blocks of whole tiles (<see cref="GemmPartition"/>)
/// that the pool's threads compute independently, each packing into its own thread's scratch.
/// </summary>
internal static unsafe class GemmCore
{
    /// <summary>Depth of a packed block. Pre-packed operands are laid out in blocks of this depth.</summary>
    public const int KC = 256;

    private static int MC(GemmKernelSet ks) => ks.MR * 16;
    private static int NC(GemmKernelSet ks) => RoundUp(2048, ks.NR);

    /// <summary>Dense row-major operands; a single row of A or column of B takes a matrix-vector path without packing.</summary>
    public static void Multiply(int m, int n, int k, float alpha, float* a, int lda, bool transA,
        float* b, int ldb, bool transB, float* c, int ldc, bool accumulate, WorkerPool? pool = null)
    {
        if (m == 1 && k > 0 && n > 0)
        {
            GemmVector.RowTimesMatrix(n, k, alpha, a, transA ? lda : 1, b, ldb, transB, c, accumulate, pool);
            return;
        }
        if (n == 1 && k > 0 && m > 0 && !transA && (transB || ldb == 1))
        {
            GemmVector.MatrixTimesColumn(m, k, alpha, a, lda, b, c, ldc, accumulate);
            return;
        }
        Multiply(GemmKernelSet.Current, m, n, k, new GemmDenseA(a, lda, transA, alpha), new GemmDenseB(b, ldb, transB), c, ldc, accumulate,
            default(GemmNoEpilogue), pool);
    }

    public static void Multiply<TA, TB>(GemmKernelSet ks, int m, int n, int k, TA a, TB b, float* c, int ldc, bool accumulate, WorkerPool? pool = null)
        where TA : struct, IGemmA where TB : struct, IGemmB =>
        Multiply(ks, m, n, k, a, b, c, ldc, accumulate, default(GemmNoEpilogue), pool);

    /// <summary>C (+)= A·B, then <paramref name="epilogue"/> on every element of C, split across <paramref name="pool"/> when worth it.</summary>
    public static void Multiply<TA, TB, TE>(GemmKernelSet ks, int m, int n, int k, TA a, TB b, float* c, int ldc, bool accumulate,
        TE epilogue, WorkerPool? pool)
        where TA : struct, IGemmA where TB : struct, IGemmB where TE : struct, IGemmEpilogue
    {
        if (m <= 0 || n <= 0) return;
        var plan = GemmPartition.Plan(ks, m, n, k, pool?.Threads ?? 1,
            aPacked: k > 0 && a.Packed(0, 0, Math.Min(KC, k)) != null, bPacked: k > 0 && b.Packed(0, Math.Min(KC, k), 0) != null);
        if (plan.Parts == 1)
        {
            MultiplyBlock(ks, 0, m, 0, n, k, a, b, c, ldc, accumulate, epilogue);
            return;
        }
        pool!.Run(plan.Parts, new Job<TA, TB, TE>(ks, plan, m, n, k, a, b, c, ldc, accumulate, epilogue));
    }

    private readonly struct Job<TA, TB, TE>(GemmKernelSet ks, GemmPartition plan, int m, int n, int k, TA a, TB b, float* c, int ldc,
        bool accumulate, TE epilogue) : IParallelJob
        where TA : struct, IGemmA where TB : struct, IGemmB where TE : struct, IGemmEpilogue
    {
        public void Execute(int part)
        {
            var (i0, i1, j0, j1) = plan.Block(part, m, n);
            MultiplyBlock(ks, i0, i1, j0, j1, k, a, b, c, ldc, accumulate, epilogue);
        }
    }

    /// <summary>
    /// Rows [i0, i1) × columns [j0, j1) of C (i0 a multiple of MR, j0 of NR, so pre-packed panels line up);
    /// <paramref name="c"/> points at C[0, 0].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyBlock<TA, TB, TE>(GemmKernelSet ks, int i0, int i1, int j0, int j1, int k, TA a, TB b, float* c, int ldc,
        bool accumulate, TE epilogue)
        where TA : struct, IGemmA where TB : struct, IGemmB where TE : struct, IGemmEpilogue
    {
        int m = i1 - i0, n = j1 - j0;
        if (m <= 0 || n <= 0) return;
        if (k <= 0)
        {
            for (int i = i0; i < i1; i++)
            {
                float* row = c + (long)i * ldc + j0;
                if (!accumulate) new Span<float>(row, n).Clear();
                if (epilogue.IsActive) epilogue.Apply(row, ldc, i, j0, 1, n);
            }
            return;
        }
        int mr = ks.MR, nr = ks.NR, mcMax = MC(ks), ncMax = NC(ks);
        var scratch = GemmScratch.ForThread;
        float* bufB = scratch.B(Math.Min(KC, k) * RoundUp(Math.Min(ncMax, n), nr));
        float* bufA = scratch.A(Math.Min(KC, k) * RoundUp(Math.Min(mcMax, m), mr));
        for (int jc = j0; jc < j1; jc += ncMax)
        {
            int nc = Math.Min(ncMax, j1 - jc);
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                float* pb = b.Packed(pc, kc, jc);
                if (pb == null) { b.Pack(bufB, pc, kc, jc, nc, nr); pb = bufB; }
                bool acc = accumulate || pc > 0, last = pc + kc >= k;
                for (int ic = i0; ic < i1; ic += mcMax)
                {
                    int mc = Math.Min(mcMax, i1 - ic);
                    float* pa = a.Packed(ic, pc, kc);
                    if (pa == null) { a.Pack(bufA, ic, mc, pc, kc, mr); pa = bufA; }
                    MacroKernel(ks, pa, pb, c, ldc, ic, jc, mc, nc, kc, acc, last, epilogue);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MacroKernel<TE>(GemmKernelSet ks, float* pa, float* pb, float* c, int ldc, int ic, int jc, int mc, int nc, int kc,
        bool accumulate, bool last, TE epilogue) where TE : struct, IGemmEpilogue
    {
        int mr = ks.MR, nr = ks.NR;
        var kernel = ks.Kernel;
        var rowTail = ks.RowTailKernel;
        bool finish = last && epilogue.IsActive;
        float* tile = stackalloc float[mr * nr];
        GemmTileEpilogue described;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int nw = Math.Min(nr, nc - jr);
            float* bp = pb + (long)jr * kc;
            for (int ir = 0; ir < mc; ir += mr)
            {
                int mh = Math.Min(mr, mc - ir);
                float* ap = pa + (long)ir * kc;
                float* cp = c + (long)(ic + ir) * ldc + jc + jr;
                if (mh == mr && nw == nr)
                {
                    if (finish && epilogue.Describe(ic + ir, jc + jr, &described))
                    {
                        kernel(ap, bp, cp, ldc, kc, accumulate, &described);
                        continue;
                    }
                    kernel(ap, bp, cp, ldc, kc, accumulate, null);
                }
                else if (nw == nr && rowTail != null)
                {
                    // The last rows of a full-width tile, straight into C without computing the missing rows.
                    if (finish && epilogue.Describe(ic + ir, jc + jr, &described))
                    {
                        rowTail(mh, ap, bp, cp, ldc, kc, accumulate, &described);
                        continue;
                    }
                    rowTail(mh, ap, bp, cp, ldc, kc, accumulate, null);
                }
                else
                {
                    // A partial tile is computed whole into a scratch tile (packing zero-filled the missing rows
                    // and columns), then only its valid part is stored.
                    kernel(ap, bp, tile, nr, kc, false, null);
                    for (int i = 0; i < mh; i++)
                    {
                        float* src = tile + i * nr, dst = cp + (long)i * ldc;
                        if (accumulate) for (int j = 0; j < nw; j++) dst[j] += src[j];
                        else for (int j = 0; j < nw; j++) dst[j] = src[j];
                    }
                }
                if (finish) epilogue.Apply(cp, ldc, ic + ir, jc + jr, mh, nw);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}

/// <summary>
/// How a product is cut into blocks for the worker pool: a grid of row blocks × column blocks, each a
/// whole number of MR×NR tiles. Columns are split first, since each column block packs only its own
/// part of B; rows only when there are too few columns, as every row block packs all of B (unless B
/// is pre-packed). A too small product stays in one block: waking threads would cost more.
/// An odd number of column tiles cannot be halved: the pool's caller claims parts from the front and its
/// other thread from the back, so on two threads one side ended a whole tile column behind the other (25 or 27
/// tiles at ResNet's 28×28 stage: 13 against 12, 4% of the layer). With A pre-packed (so a row block packs
/// nothing twice) the middle tile column then becomes two parts of its own, its upper and lower rows, placed
/// in the middle of the order where the two sides meet: each side ends with half of it.
/// </summary>
internal readonly record struct GemmPartition(int RowParts, int ColParts, int Mr, int Nr, bool SplitMiddle = false, bool Tapered = false)
{
    /// <summary>Below this many multiply-adds per part, splitting costs more than it saves.</summary>
    private const long MinWorkPerPart = 1 << 18;

    public int Parts => RowParts * ColParts + (SplitMiddle ? 2 : 0);

    public static GemmPartition Plan(GemmKernelSet ks, int m, int n, int k, int threads, bool aPacked, bool bPacked) =>
        Plan(ks.MR, ks.NR, m, n, k, threads, aPacked, bPacked);

    /// <summary>As above for tiles of <paramref name="mr"/> × <paramref name="nr"/> (a product that takes a wider tile than its set's).</summary>
    public static GemmPartition Plan(int mr, int nr, int m, int n, int k, int threads, bool aPacked, bool bPacked)
    {
        long work = (long)m * n * Math.Max(k, 1);
        int maxParts = (int)Math.Min(threads * 4L, work / MinWorkPerPart);
        if (threads <= 1 || maxParts < 2) return new(1, 1, mr, nr);
        int rowTiles = (m + mr - 1) / mr, colTiles = (n + nr - 1) / nr;
        // With both operands read in place (nothing packed per block), a column block reads all of A and a row block all of B:
        // when A is much the larger (SqueezeNet's classifier, 1000×512 weights over 13×13 = 169 positions: 2 MiB against 346 KiB),
        // row blocks read each weight once where column blocks read A from L3 once per column block (three times per thread).
        // These row blocks taper towards the middle of the claiming order (Tapered), where the threads meet.
        if (aPacked && bPacked && m >= 2L * n && rowTiles >= maxParts)
            return new(maxParts > threads ? maxParts / threads * threads : maxParts, 1, mr, nr, Tapered: true);
        // Column blocks of at least two tiles keep the packed B panels long enough to amortize the A block.
        int colParts = Math.Min(maxParts, Math.Max(1, colTiles / 2));
        int rowParts = RowParts(colParts);
        // Parts that the threads cannot share evenly leave one thread a whole part behind at the end (SqueezeNet's 192×48 1×1 at
        // 13×13: three column blocks, 4 tiles against 2 on two threads): fewer column or row blocks then, a multiple of the threads.
        if (rowParts * colParts % threads != 0 && colParts > threads)
        {
            colParts = colParts / threads * threads;
            rowParts = RowParts(colParts);
        }
        if (rowParts * colParts % threads != 0 && rowParts > threads) rowParts = rowParts / threads * threads;
        // Each side keeps at least one whole column part, so the middle split needs an even number of them.
        bool splitMiddle = aPacked && rowParts == 1 && colParts % 2 == 0 && colTiles % 2 == 1 && colTiles > colParts && rowTiles >= 2;
        return new(rowParts, colParts, mr, nr, splitMiddle);

        int RowParts(int cols) =>
            cols < threads * 2 && (bPacked || !aPacked || cols < threads) ? Math.Min(rowTiles, Math.Max(1, maxParts / cols)) : 1;
    }

    /// <summary>The first row tile of tapered block <paramref name="part"/> (<paramref name="part"/> = RowParts: the end).</summary>
    private int TaperStart(int part, int rowTiles)
    {
        long before = 0, total = 0;
        for (int p = 0; p < RowParts; p++)
        {
            long w = 1L << Math.Min(30, RowParts / 2 - 1 - Math.Min(Math.Min(p, RowParts - 1 - p), RowParts / 2 - 1));
            total += w;
            if (p < part) before += w;
        }
        return (int)(rowTiles * before / total);
    }

    /// <summary>Rows [i0, i1) and columns [j0, j1) of block <paramref name="part"/>, tiles shared out evenly.</summary>
    public (int I0, int I1, int J0, int J1) Block(int part, int m, int n)
    {
        int rowTiles = (m + Mr - 1) / Mr, colTiles = (n + Nr - 1) / Nr;
        if (SplitMiddle)
        {
            // Parts: the left half's column blocks, the middle tile column's upper rows, its lower rows, the right half's blocks.
            int half = ColParts / 2, mid = colTiles / 2;
            if (part == half || part == half + 1)
            {
                int i = part == half ? 0 : (rowTiles + 1) / 2 * Mr;
                int iEnd = part == half ? (rowTiles + 1) / 2 * Mr : m;
                return (i, Math.Min(m, iEnd), mid * Nr, Math.Min(n, (mid + 1) * Nr));
            }
            bool left = part < half;
            int p = left ? part : part - half - 2, first = left ? 0 : mid + 1;
            int t0 = first + (int)((long)mid * p / half), t1 = first + (int)((long)mid * (p + 1) / half);
            return (0, m, t0 * Nr, Math.Min(n, t1 * Nr));
        }
        if (Tapered)
        {
            // Row blocks halving from each end of the order towards its middle (rows 8:4:2:1:1:2:4:8 for eight parts): the threads
            // take the large ones first, from both ends, and the last parts claimed are a tile or two, so a thread that runs slower
            // (a slow core, a late start) leaves the other at most a small part to wait for. 125 row tiles in eight equal parts
            // could leave one thread a whole 16-tile part behind (SqueezeNet's classifier: caller and worker waited 70 µs each per run).
            return (TaperStart(part, rowTiles) * Mr, Math.Min(m, TaperStart(part + 1, rowTiles) * Mr), 0, n);
        }
        int pi = part / ColParts, pj = part % ColParts;
        int i0 = (int)((long)rowTiles * pi / RowParts) * Mr, i1 = Math.Min(m, (int)((long)rowTiles * (pi + 1) / RowParts) * Mr);
        int j0 = (int)((long)colTiles * pj / ColParts) * Nr, j1 = Math.Min(n, (int)((long)colTiles * (pj + 1) / ColParts) * Nr);
        return (i0, i1, j0, j1);
    }
}

/// <summary>Per-thread packing buffers, 64-byte aligned and pinned, grown on demand (so steady state allocates nothing).</summary>
internal sealed unsafe class GemmScratch
{
    [ThreadStatic] private static GemmScratch? _forThread;
    public static GemmScratch ForThread => _forThread ??= new GemmScratch();

    private AlignedBuffer _a, _b, _extra, _input, _sharedA, _winogradInput, _winogradProducts;

    public float* A(int floats) => _a.Get(floats);
    public float* B(int floats) => _b.Get(floats);

    /// <summary>Which <see cref="ConvWideGemm"/> product's last panel <see cref="B"/> holds (0: none), so its parts pack it once.</summary>
    public long LastPanelJob;

    /// <summary>A third buffer for callers (im2col scratch, tiles); not used by <see cref="GemmCore"/> itself.</summary>
    public float* Extra(int floats) => _extra.Get(floats);

    /// <summary>A fourth buffer for a kernel's transformed input (FusedConv's pre-activation), kept apart from the others.</summary>
    public float* Input(int floats) => _input.Get(floats);

    /// <summary>A fifth buffer: a left operand packed once and read by every part of a parallel product (<see cref="ConvFewPositions"/>).</summary>
    public float* SharedA(int floats) => _sharedA.Get(floats);

    /// <summary>A block's transformed input tiles and their products (<see cref="ConvWinograd"/>), which live alongside the GEMM's own buffers.</summary>
    public float* WinogradInput(int floats) => _winogradInput.Get(floats);
    public float* WinogradProducts(int floats) => _winogradProducts.Get(floats);

    private struct AlignedBuffer
    {
        private float[]? _array;
        private float* _ptr;
        private int _capacity;

        public float* Get(int floats)
        {
            if (floats > _capacity)
            {
                _capacity = Math.Max(floats, _capacity * 2);
                _array = GC.AllocateUninitializedArray<float>(_capacity + 16, pinned: true);
                _ptr = AlignedPointer(_array);
            }
            return _ptr;
        }
    }

    /// <summary>The first 64-byte aligned element of a pinned array (which must have 16 spare elements).</summary>
    public static float* AlignedPointer(float[] pinned)
    {
        var p = (float*)Unsafe.AsPointer(ref pinned[0]);
        return (float*)(((nint)p + 63) & ~(nint)63);
    }
}
