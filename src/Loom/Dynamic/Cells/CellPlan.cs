using Loom.Kernels.Common;

namespace Loom.Dynamic.Cells;

internal enum SlotKind : byte { Arg, Gemm, Local }

/// <summary>Where one value of a compiled cell lives while a batch runs.</summary>
internal sealed class Slot
{
    public SlotKind Kind;
    public int Dim;
    /// <summary>Argument index (Arg).</summary>
    public int Arg;
    /// <summary>GEMM stage and first column in that stage's output (Gemm).</summary>
    public int Stage, Col;
    /// <summary>A bias not yet added to a GEMM result; consumers add it (fused into the activation where they can).</summary>
    public Parameter? Bias;
    /// <summary>The cell output this local is written to directly, or -1.</summary>
    public int Output = -1;
    /// <summary>A local that a later GEMM stage reads, so it needs a whole block of rows rather than one row of scratch.</summary>
    public bool FeedsGemm;
    /// <summary>Offset in the per-row scratch (locals that are neither outputs nor GEMM sources, at inference).</summary>
    public int ScratchOffset;

    /// <summary>Kept in a block of rows: outputs excluded, always when training (backward reads it), and GEMM sources.</summary>
    public bool InBlock(bool training) => Kind == SlotKind.Local && Output < 0 && (training || FeedsGemm);
}

internal enum EwKind : byte { Copy, AddBias, Logistic, Tanh, OneMinus, Mul, Add, Sub, Sum, Concat }

/// <summary>One fused elementwise step over a row: <c>Out = Kind(In…) (+ Bias before the activation)</c>.</summary>
internal sealed record EwOp(EwKind Kind, int Out, int[] In, Parameter? Bias);

/// <summary>One block of weight rows in a GEMM call: affine <see cref="Slot"/>'s term matrix columns [WCol, WCol+K).</summary>
internal sealed record GemmPart(int Slot, Parameter W, int WCol, int Col, int N);

/// <summary>
/// One GEMM of a stage: rows of <see cref="Source"/> times the weight blocks of <see cref="Parts"/>, packed side by
/// side, into stage columns [Col, Col+N) — written, or added when an earlier call already wrote them.
/// </summary>
internal sealed unsafe class GemmCall(int source, int k, int col, int n, bool accumulate, GemmPart[] parts)
{
    private GemmPackedB? _packed;
    private int[] _versions = [];

    public int Source { get; } = source;
    public int K { get; } = k;
    public int Col { get; } = col;
    public int N { get; } = n;
    public bool Accumulate { get; } = accumulate;
    public GemmPart[] Parts { get; } = parts;

    /// <summary>The weight blocks packed for the GEMM core; repacked only after a parameter update.</summary>
    public GemmPackedB Packed()
    {
        var p = _packed;
        if (p is not null && Current()) return p;
        lock (this)
        {
            if (_packed is not null && Current()) return _packed;
            var t = new float[K * N];
            foreach (var part in Parts)
            {
                var w = part.W.Value;
                int off = part.Col - Col;
                for (int j = 0; j < part.N; j++)
                    for (int k = 0; k < K; k++) t[k * N + off + j] = w[j * part.W.Cols + part.WCol + k];
            }
            fixed (float* pt = t) _packed = new GemmPackedB(GemmKernelSet.Best, K, N, pt, N, transposed: false);
            _versions = Parts.Select(x => x.W.Version).ToArray();
            return _packed;
        }
    }

    private bool Current()
    {
        var v = _versions;
        for (int i = 0; i < Parts.Length; i++) if (Parts[i].W.Version != v[i]) return false;
        return true;
    }
}

internal sealed class GemmStage
{
    public int N;
    public readonly List<GemmCall> Calls = [];
}

/// <summary>
/// A traced cell compiled for batches: time alternates between GEMM stages (every affine whose inputs are
/// ready, grouped so each input source is one GEMM over adjacent output columns) and elementwise phases
/// (everything else, fused row by row). Built by <see cref="CellPlanBuilder"/>.
/// </summary>
internal sealed class CellPlan
{
    public required CellProgram Program { get; init; }
    public required Slot[] Slots { get; init; }
    public required GemmStage[] Stages { get; init; }
    /// <summary>Phase s runs after stage s.</summary>
    public required List<EwOp>[] Phases { get; init; }
    public required int[] OutputDims { get; init; }
    public required int ScratchFloats { get; init; }
    /// <summary>Floats copied per instance (concatenations and pass-through outputs, which no kernel can avoid).</summary>
    public required int CopiedFloats { get; init; }

    public int ArgCount => Program.ArgCount;
    public int StageColumns => Stages.Sum(s => s.N);

    public static CellPlan Compile(CellProgram program) => new CellPlanBuilder(program).Build();

    /// <summary>The compile-time analysis in words: argument classes, GEMMs, fused steps.</summary>
    public string Describe()
    {
        var sb = new System.Text.StringBuilder();
        sb.Append($"cell {Program.Name}: shared parameters {string.Join(", ", Program.Parameters().Select(p => p.Name))}; ");
        sb.Append($"per-instance arguments {string.Join(", ", Program.ArgDims.Select((d, i) => $"arg{i}[{d}]"))}; ");
        for (int s = 0; s < Stages.Length; s++)
        {
            foreach (var c in Stages[s].Calls)
                sb.Append($"GEMM{s} {Name(c.Source)}[{c.K}] x [{string.Join("|", c.Parts.Select(p => p.W.Name))}] -> cols {c.Col}..{c.Col + c.N}{(c.Accumulate ? " (+=)" : "")}; ");
            sb.Append($"fused elementwise {Phases[s].Count} steps; ");
        }
        return sb.ToString().TrimEnd(' ', ';');
    }

    private string Name(int slot) => Slots[slot].Kind == SlotKind.Arg ? $"arg{Slots[slot].Arg}" : $"local{slot}";
}
