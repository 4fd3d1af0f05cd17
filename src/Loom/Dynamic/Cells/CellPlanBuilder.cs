namespace Loom.Dynamic.Cells;

/// <summary>
/// Compiles a <see cref="CellProgram"/> into a <see cref="CellPlan"/>. Affine terms over a concatenation are
/// split by column blocks (W·[a;b] = W_a·a + W_b·b), so a concatenation costs nothing; affines are placed in
/// the earliest GEMM stage their inputs allow; within a stage the affines are ordered so that each source's
/// columns are adjacent (a consecutive-ones ordering: sources used by fewer affines at the ends), making one
/// GEMM per source.
/// </summary>
internal sealed class CellPlanBuilder(CellProgram program)
{
    private readonly List<Slot> _slots = [];
    private readonly int[] _valueSlot = new int[program.ValueCount];
    private readonly int[] _time = new int[program.ValueCount];
    private readonly List<(Parameter W, int WCol, int Src)>[] _terms = new List<(Parameter, int, int)>[program.ValueCount];
    private readonly Dictionary<int, int> _materialized = [];
    private readonly List<List<EwOp>> _phases = [];
    private int _copied;

    public CellPlan Build()
    {
        int args = program.ArgCount;
        for (int a = 0; a < args; a++) _valueSlot[a] = AddSlot(new Slot { Kind = SlotKind.Arg, Arg = a, Dim = program.ArgDims[a] });
        var concatOnlyInAffines = ConcatsUsedOnlyByAffines();
        for (int i = 0; i < program.Ops.Count; i++)
        {
            int v = args + i;
            var op = program.Ops[i];
            if (op.Kind == PrimKind.Affine) PlaceAffine(v, op);
            else if (op.Kind == PrimKind.Concat && concatOnlyInAffines.Contains(v))
            {
                _time[v] = op.Inputs.Max(x => _time[x]);
                _valueSlot[v] = -1; // never materialized: affines read its parts
            }
            else PlaceElementwise(v, op);
        }
        var stages = BuildStages();
        BindOutputs();
        int scratch = 0;
        foreach (var s in _slots)
            if (s.Kind == SlotKind.Local && s.Output < 0 && !s.FeedsGemm) { s.ScratchOffset = scratch; scratch += (s.Dim + 15) & ~15; }
        // Stage i is followed by phase i; pad both lists to the same length (a cell may have no GEMM, or end with one).
        while (_phases.Count < stages.Length) _phases.Add([]);
        if (stages.Length < _phases.Count) stages = [.. stages, .. Enumerable.Range(0, _phases.Count - stages.Length).Select(_ => new GemmStage())];
        return new CellPlan
        {
            Program = program,
            Slots = _slots.ToArray(),
            Stages = stages,
            Phases = _phases.ToArray(),
            OutputDims = program.Outputs.Select(program.DimOf).ToArray(),
            ScratchFloats = scratch,
            CopiedFloats = _copied,
        };
    }

    private int AddSlot(Slot s)
    {
        _slots.Add(s);
        return _slots.Count - 1;
    }

    private HashSet<int> ConcatsUsedOnlyByAffines()
    {
        var result = new HashSet<int>();
        int args = program.ArgCount;
        for (int i = 0; i < program.Ops.Count; i++)
            if (program.Ops[i].Kind == PrimKind.Concat) result.Add(args + i);
        foreach (var op in program.Ops)
            if (op.Kind != PrimKind.Affine)
                foreach (int x in op.Inputs) result.Remove(x);
        foreach (int o in program.Outputs) result.Remove(o);
        return result;
    }

    /// <summary>An affine: terms flattened through concatenations, placed in the first GEMM stage (odd time) after its sources.</summary>
    private void PlaceAffine(int v, PrimOp op)
    {
        var terms = new List<(Parameter, int, int)>();
        for (int j = 0; j < op.Inputs.Length; j++) Flatten(op.Weights![j], 0, op.Inputs[j], terms);
        _terms[v] = terms;
        int ready = 0;
        foreach (var (_, _, src) in terms)
        {
            // A GEMM result (or pending bias) must first be materialized in the elementwise phase after its stage.
            int t = _slots[_valueSlot[src]].Kind == SlotKind.Gemm ? _time[src] + 1 : _time[src];
            ready = Math.Max(ready, t);
        }
        _time[v] = ready % 2 == 0 ? ready + 1 : ready + 2;
        _valueSlot[v] = AddSlot(new Slot { Kind = SlotKind.Gemm, Dim = op.Dim, Stage = _time[v] / 2, Bias = op.Bias });
    }

    private void Flatten(Parameter w, int wcol, int src, List<(Parameter, int, int)> into)
    {
        if (src >= program.ArgCount && _valueSlot[src] == -1)
        {
            foreach (int part in program.Ops[src - program.ArgCount].Inputs)
            {
                Flatten(w, wcol, part, into);
                wcol += program.DimOf(part);
            }
            return;
        }
        into.Add((w, wcol, src));
    }

    private void PlaceElementwise(int v, PrimOp op)
    {
        int ready = 0;
        foreach (int x in op.Inputs) ready = Math.Max(ready, _time[x]);
        int t = ready == 0 ? 2 : ready % 2 == 1 ? ready + 1 : ready;
        _time[v] = t;
        int outSlot = AddSlot(new Slot { Kind = SlotKind.Local, Dim = op.Dim });
        _valueSlot[v] = outSlot;
        var kind = op.Kind switch
        {
            PrimKind.Logistic => EwKind.Logistic,
            PrimKind.Tanh => EwKind.Tanh,
            PrimKind.OneMinus => EwKind.OneMinus,
            PrimKind.Mul => EwKind.Mul,
            PrimKind.Add => EwKind.Add,
            PrimKind.Sub => EwKind.Sub,
            PrimKind.Sum => EwKind.Sum,
            PrimKind.Concat => EwKind.Concat,
            _ => throw new InvalidOperationException($"{op.Kind} is not elementwise"),
        };
        if (kind == EwKind.Concat) _copied += op.Dim;
        // An activation reads a GEMM result directly and adds its bias on the way (one pass instead of two).
        if (kind is EwKind.Logistic or EwKind.Tanh && _slots[_valueSlot[op.Inputs[0]]] is { Kind: SlotKind.Gemm } g)
        {
            Phase(t).Add(new EwOp(kind, outSlot, [_valueSlot[op.Inputs[0]]], g.Bias));
            return;
        }
        var ins = op.Inputs.Select(x => Readable(x, t)).ToArray();
        Phase(t).Add(new EwOp(kind, outSlot, ins, null));
    }

    /// <summary>The slot to read value <paramref name="v"/> from at time <paramref name="t"/>: GEMM results are materialized once (bias added).</summary>
    private int Readable(int v, int t)
    {
        int s = _valueSlot[v];
        if (_slots[s].Kind != SlotKind.Gemm) return s;
        if (_materialized.TryGetValue(v, out int m)) return m;
        m = AddSlot(new Slot { Kind = SlotKind.Local, Dim = _slots[s].Dim });
        Phase(_time[v] + 1).Add(new EwOp(_slots[s].Bias is null ? EwKind.Copy : EwKind.AddBias, m, [s], _slots[s].Bias));
        _materialized[v] = m;
        _ = t;
        return m;
    }

    private List<EwOp> Phase(int time)
    {
        int index = time / 2 - 1;
        while (_phases.Count <= index) _phases.Add([]);
        return _phases[index];
    }

    private GemmStage[] BuildStages()
    {
        int args = program.ArgCount;
        int count = 0;
        for (int i = 0; i < program.Ops.Count; i++)
            if (program.Ops[i].Kind == PrimKind.Affine) count = Math.Max(count, _time[args + i] / 2 + 1);
        var stages = new GemmStage[count];
        for (int s = 0; s < count; s++)
        {
            stages[s] = new GemmStage();
            var affines = new List<int>();
            for (int i = 0; i < program.Ops.Count; i++)
                if (program.Ops[i].Kind == PrimKind.Affine && _time[args + i] / 2 == s) affines.Add(args + i);
            BuildStage(stages[s], affines);
        }
        return stages;
    }

    private void BuildStage(GemmStage stage, List<int> affines)
    {
        // Sources in order of first use; then affines sorted by (first source, last source) so each source's columns are adjacent.
        var sources = new List<int>();
        foreach (int a in affines)
            foreach (var (_, _, src) in _terms[a])
            {
                int slot = SourceSlot(src);
                if (!sources.Contains(slot)) sources.Add(slot);
            }
        int Lo(int a) => _terms[a].Min(t => sources.IndexOf(SourceSlot(t.Src)));
        int Hi(int a) => _terms[a].Max(t => sources.IndexOf(SourceSlot(t.Src)));
        var ordered = affines.OrderBy(Lo).ThenBy(Hi).ToList();
        foreach (int a in ordered)
        {
            _slots[_valueSlot[a]].Col = stage.N;
            stage.N += program.DimOf(a);
        }
        var written = new HashSet<int>();
        foreach (int src in sources)
        {
            var parts = new List<GemmPart>();
            foreach (int a in ordered)
                foreach (var (w, wcol, s) in _terms[a])
                    if (SourceSlot(s) == src)
                    {
                        var slot = _slots[_valueSlot[a]];
                        parts.Add(new GemmPart(_valueSlot[a], w, wcol, slot.Col, slot.Dim));
                    }
            // Split into runs of adjacent columns with the same write/accumulate status (one affine may take a source twice).
            var seenHere = new HashSet<int>();
            int i = 0;
            var run = new List<GemmPart>();
            while (i < parts.Count)
            {
                run.Clear();
                bool acc = written.Contains(parts[i].Slot) || seenHere.Contains(parts[i].Slot);
                run.Add(parts[i]);
                int j = i + 1;
                while (j < parts.Count && parts[j].Col == run[^1].Col + run[^1].N
                       && (written.Contains(parts[j].Slot) || seenHere.Contains(parts[j].Slot)) == acc && !run.Any(p => p.Slot == parts[j].Slot))
                    run.Add(parts[j++]);
                foreach (var p in run) seenHere.Add(p.Slot);
                stage.Calls.Add(new GemmCall(src, _slots[src].Dim, run[0].Col, run.Sum(p => p.N), acc, run.ToArray()));
                i = j;
            }
            foreach (int sl in seenHere) written.Add(sl);
            if (_slots[src].Kind == SlotKind.Local) _slots[src].FeedsGemm = true;
        }
    }

    /// <summary>The slot a GEMM reads a term's source from (a GEMM result is read from its materialized copy).</summary>
    private int SourceSlot(int value) => _slots[_valueSlot[value]].Kind == SlotKind.Gemm ? Readable(value, _time[value] + 1) : _valueSlot[value];

    private void BindOutputs()
    {
        for (int k = 0; k < program.Outputs.Length; k++)
        {
            int v = program.Outputs[k];
            int s = _valueSlot[v];
            var slot = _slots[s];
            if (slot.Kind == SlotKind.Local && slot.Output < 0 && !slot.FeedsGemm)
            {
                slot.Output = k;
                continue;
            }
            // An argument, a GEMM result or a value returned twice: written out by a copy (with the bias for a GEMM result).
            int o = AddSlot(new Slot { Kind = SlotKind.Local, Dim = slot.Dim, Output = k });
            bool gemm = slot.Kind == SlotKind.Gemm;
            int time = gemm ? _time[v] + 1 : Math.Max(_time[v], 2);
            if (time % 2 == 1) time++;
            Phase(time).Add(new EwOp(gemm && slot.Bias is not null ? EwKind.AddBias : EwKind.Copy, o, [s], gemm ? slot.Bias : null));
            if (!gemm) _copied += slot.Dim;
        }
    }
}
