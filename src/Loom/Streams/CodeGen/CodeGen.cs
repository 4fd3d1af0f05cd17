using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using Loom.Streams.Execution;
using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

/// <summary>
/// One side of a work function's stream access: the array and running index, held in locals for the batch.
/// A ring masks the index (<paramref name="Mask"/> ≥ 0); a fused program's linear buffer uses it as it is, or
/// looks it up in <paramref name="Table"/> (the item's place when a splitter or joiner was compiled away).
/// </summary>
internal sealed record PortAccess(ParameterExpression Buf, ParameterExpression Index, Type Item, int Mask, ParameterExpression? Table = null)
{
    /// <summary>Every entry of <see cref="Table"/> is a valid index of the arena: the item's read needs no bounds check.</summary>
    public bool TableInRange { get; init; }

    /// <summary>A dynamic queue (<see cref="DynamicChannel{T}"/>), reached by method calls instead of Buf and Index.</summary>
    public Expression? Queue { get; init; }
}

/// <summary>
/// A fused program's port of one filter: items live in the array <paramref name="Arena"/> evaluates to (read once
/// per step: the runtime may swap arenas between units); firing f (counted from the start of the fused unit) reads
/// or writes from index <c>Base + f·Stride</c>, through <paramref name="Table"/> when given.
/// </summary>
public sealed record FusedPort(Expression Arena, int Base, int Stride, int[]? Table)
{
    /// <summary>Items to skip after each firing's pops (a strided row: firing f reads from Base + f·(pop + Gap)).</summary>
    public int Gap { get; init; }

    /// <summary>The arena's length (every copy has the same), when known: a table whose entries all lie below it is read without bounds checks.</summary>
    public int ArenaLength { get; init; } = -1;
}

/// <summary>One filter's fused code in parts (see <see cref="CodeGen.FusedParts"/>).</summary>
public sealed record FusedFilterParts(List<ParameterExpression> Locals, List<Expression> Prologue, List<Expression> Setup, Expression Firing, List<Expression> Teardown);

/// <summary>
/// Turns bound StreamIt code into a LINQ expression tree that is compiled to a delegate, so the JIT makes
/// native code of each work function. Stream parameters and globals become constants of the instance
/// (the JIT folds loop bounds and rates); fields live in locals for a batch of firings; helper functions
/// are inlined at each call.
/// </summary>
internal sealed partial class CodeGen
{
    private readonly Dictionary<VarSymbol, Expression> _vars = [];
    private readonly List<ParameterExpression> _locals = [];
    private readonly List<Expression> _prologue = [];
    private readonly GlobalStore _globals;
    private readonly bool _staticCode;
    private readonly Printer? _printer;
    private readonly ICompositeBuilder? _builder;
    private readonly string _where;
    private readonly Stack<(LabelTarget Break, LabelTarget Continue)> _loops = new();
    private readonly HashSet<FunctionSymbol> _inlining = [];
    private LabelTarget? _return;
    private PortAccess? _in, _out;

    /// <summary>Whether work functions unroll short fixed loops (<c>LOOM_STREAM_UNROLL=0</c> turns it off, for comparing).</summary>
    internal static readonly bool Unroll = Environment.GetEnvironmentVariable("LOOM_STREAM_UNROLL") != "0";
    private bool _hoistArrays;
    /// <summary>The filter's messaging state, when it sends or handles teleport messages (its firings are counted).</summary>
    private MessageBox? _box;
    private StreamSymbol? _filter;

    private CodeGen(GlobalStore globals, bool staticCode, Printer? printer, ICompositeBuilder? builder, string where)
    {
        _globals = globals;
        _staticCode = staticCode;
        _printer = printer;
        _builder = builder;
        _where = where;
    }

    private ParameterExpression NewLocal(Type t, string name)
    {
        var p = Expression.Variable(t, name);
        _locals.Add(p);
        return p;
    }

    private UnsupportedException Unsupported(Syntax.SourceSpan span, string what) => new($"{span}: {what} is not supported (in {_where})");

    /// <summary>The static block: declares and sets the globals.</summary>
    public static Action CompileStatic(BoundProgram prog, GlobalStore globals, Printer printer)
    {
        var g = new CodeGen(globals, staticCode: true, printer, null, "the static block");
        var body = prog.StaticCode.Select(g.Stmt).ToList();
        return g.Finish(body);
    }

    /// <summary>A pipeline, split-join or feedback loop body, run once per instance to build its children.</summary>
    public static Action CompileComposite(StreamSymbol s, object?[] args, GlobalStore globals, ICompositeBuilder builder)
    {
        var g = new CodeGen(globals, false, null, builder, s.Name);
        // Composite code may assign its parameters, so they are locals initialised from the arguments.
        foreach (var p in s.Params)
        {
            var local = g.NewLocal(ClrTypes.Of(p.Type), p.Name);
            g._prologue.Add(Expression.Assign(local, Expression.Constant(args[p.Index], local.Type)));
            g._vars[p] = local;
        }
        return g.Finish([g.Stmt(s.Body!)]);
    }

    /// <summary>A filter instance's field initialisers and <c>init</c>, writing the fields' boxes.</summary>
    public static Action CompileInit(StreamSymbol s, object?[] args, IStrongBox[] fields, GlobalStore globals, Printer printer)
    {
        var g = new CodeGen(globals, false, printer, null, s.Name);
        g.BindParams(s, args);
        var (load, store) = g.BindFields(s, fields);
        var body = new List<Expression>(load);
        body.AddRange(s.FieldDecls.Select(g.Stmt));
        if (s.Init is not null) body.Add(g.WithReturn(typeof(void), () => g.Stmt(s.Init)));
        body.AddRange(store);
        return g.Finish(body);
    }

    /// <summary>
    /// <c>n</c> firings of work (or prework) of one filter instance reading <paramref name="input"/> and writing
    /// <paramref name="output"/>. The channels' indices are read once and written back at the end.
    /// </summary>
    public static Action<int> CompileWork(StreamSymbol s, WorkSymbol work, object?[] args, IStrongBox[] fields,
        Channel? input, Channel? output, GlobalStore globals, Printer printer, MessageBox? box = null)
    {
        var g = new CodeGen(globals, false, printer, null, s.Name) { _hoistArrays = true, _unroll = Unroll, _box = box, _filter = s, _localPrint = true, _workBody = work.Body, _constFields = ConstantFields(s), _constArrayFields = ConstantArrayFields(s), _stream = s, _fieldBoxes = fields };
        g.BindParams(s, args);
        var (load, store) = g.BindFields(s, fields);
        var n = Expression.Parameter(typeof(int), "n");
        var pre = new List<Expression>(load);
        var post = new List<Expression>();
        if (input is not null) g._in = g.BindPort(input, "in", head: true, pre, post);
        if (output is not null) g._out = g.BindPort(output, "out", head: false, pre, post);
        var loop = g.FiringLoop(work, n);
        var (printLoad, printStore) = g.PrintStateMoves();
        var body = new List<Expression>(pre);
        body.AddRange(printLoad);
        body.Add(loop);
        body.AddRange(post);
        body.AddRange(store);
        body.AddRange(printStore);
        var block = Expression.Block(g._locals, [.. g._prologue, .. body, Expression.Empty()]);
        return Expression.Lambda<Action<int>>(ConstantHoister.Hoist(block), $"{Sanitize(s.Name)}_work", [n]).Compile();
    }

    /// <summary>
    /// <c>count</c> firings of a filter's work in a fused program, starting at firing <c>first</c> of the fused
    /// unit, as an expression to place in the unit's compiled method: the ports are linear buffers (or tables
    /// into them) laid out by <see cref="Execution.FusedPlan"/>, firing counts and offsets are constants. The
    /// locals and the prologue (hoisted storage, run once per call) belong at the top of that method.
    /// </summary>
    public static (List<ParameterExpression> Locals, List<Expression> Prologue, Expression Body) FusedStep(StreamSymbol s, WorkSymbol work,
        object?[] args, IStrongBox[] fields, FusedPort? input, FusedPort? output, GlobalStore globals, Printer printer, int first, int count)
    {
        var p = FusedParts(s, work, args, fields, input, output, globals, printer, first);
        var body = new List<Expression>(p.Setup) { Repeat(p.Firing, count, p.Locals) };
        body.AddRange(p.Teardown);
        body.Add(Expression.Empty());
        return (p.Locals, p.Prologue, Expression.Block(typeof(void), body));
    }

    /// <summary>
    /// A fused filter's code in parts: setup (fields into locals, port indices), one firing, teardown (fields
    /// back), so that the firings of several filters can share one loop (<see cref="Execution.FusedRunner"/>).
    /// </summary>
    public static FusedFilterParts FusedParts(StreamSymbol s, WorkSymbol work, object?[] args, IStrongBox[] fields,
        FusedPort? input, FusedPort? output, GlobalStore globals, Printer printer, int first)
    {
        var parts = FusedParts(s, work, args, fields, input, output, globals, printer, first, [], out var scalar);
        // A second compilation with the arrays the first found always indexed at constants kept in locals.
        return scalar.Count == 0 ? parts : FusedParts(s, work, args, fields, input, output, globals, printer, first, scalar, out _);
    }

    private static FusedFilterParts FusedParts(StreamSymbol s, WorkSymbol work, object?[] args, IStrongBox[] fields,
        FusedPort? input, FusedPort? output, GlobalStore globals, Printer printer, int first, HashSet<VarSymbol> scalarArrays, out HashSet<VarSymbol> found)
    {
        var g = new CodeGen(globals, false, printer, null, s.Name) { _hoistArrays = true, _unroll = Unroll, _vectorCounts = VectorCounts, _localPrint = true, _workBody = work.Body,
            _constFields = ConstantFields(s), _constArrayFields = ConstantArrayFields(s), _scalarArrays = scalarArrays, _stream = s, _fieldBoxes = fields };
        g.BindParams(s, args);
        var (load, store) = g.BindFields(s, fields);
        var setup = new List<Expression>(load);
        if (input is not null) g._in = g.BindFusedPort(input, "in", first, setup);
        if (output is not null) g._out = g.BindFusedPort(output, "out", first, setup);
        var firing = g.WithReturn(typeof(void), () => g.Stmt(work.Body));
        if (input is { Gap: > 0 } && g._in is { } inPort)
            firing = Expression.Block(typeof(void), firing, Expression.AddAssign(inPort.Index, Expression.Constant(input.Gap)));
        var (printLoad, printStore) = g.PrintStateMoves();
        setup.AddRange(printLoad);
        store.AddRange(printStore);
        found = g.ScalarCandidatesFound();
        return new FusedFilterParts(g._locals, g._prologue, setup, firing, store);
    }

    /// <summary><paramref name="body"/> <paramref name="count"/> times (a loop over a new counter, added to <paramref name="locals"/>).</summary>
    public static Expression Repeat(Expression body, int count, List<ParameterExpression> locals)
    {
        if (count == 1) return body;
        var k = Expression.Variable(typeof(int), "k");
        locals.Add(k);
        var brk = Expression.Label("done");
        return Expression.Block(
            Expression.Assign(k, Expression.Constant(0)),
            Expression.Loop(Expression.Block(
                Expression.IfThen(Expression.GreaterThanOrEqual(k, Expression.Constant(count)), Expression.Break(brk)),
                body,
                Expression.PreIncrementAssign(k)), brk));
    }

    private PortAccess BindFusedPort(FusedPort port, string name, int first, List<Expression> pre)
    {
        var item = port.Arena.Type.GetElementType()!;
        var buf = NewLocal(port.Arena.Type, name + "Buf");
        var idx = NewLocal(typeof(int), name + "Index");
        pre.Add(Expression.Assign(buf, port.Arena));
        pre.Add(Expression.Assign(idx, Expression.Constant(port.Base + first * port.Stride)));
        ParameterExpression? table = null;
        bool inRange = false;
        if (port.Table is not null)
        {
            table = NewLocal(typeof(int[]), name + "Table");
            pre.Add(Expression.Assign(table, Expression.Constant(port.Table)));
            inRange = Ranges && port.ArenaLength > 0 && port.Table.All(t => t >= 0 && t < port.ArenaLength);
            // A checked read of the arena's length before the firings: the JIT then knows the arena is not null
            // and drops the null checks of the unchecked reads.
            if (inRange) pre.Add(Expression.ArrayLength(buf));
        }
        return new PortAccess(buf, idx, item, -1, table) { TableInRange = inRange };
    }

    private Expression FiringLoop(WorkSymbol work, Expression n)
    {
        var k = NewLocal(typeof(int), "k");
        var brk = Expression.Label("done");
        Expression firing = WithReturn(typeof(void), () => Stmt(work.Body));
        if (_box is not null) firing = Messages.Counted(this, firing);
        return Expression.Block(
            Expression.Assign(k, Expression.Constant(0)),
            Expression.Loop(Expression.Block(
                Expression.IfThen(Expression.GreaterThanOrEqual(k, n), Expression.Break(brk)),
                firing,
                Expression.PreIncrementAssign(k)), brk));
    }

    /// <summary>Evaluates an int expression over parameters and globals (a rate or a size).</summary>
    public static int EvalInt(BExpr e, StreamSymbol? s, object?[] args, GlobalStore globals)
    {
        if (e is BConst { Value: int v }) return v;
        var g = new CodeGen(globals, false, null, null, s?.Name ?? "a constant");
        if (s is not null) g.BindParams(s, args);
        var body = Expression.Block(g._locals, [.. g._prologue, g.Expr(e)]);
        return Expression.Lambda<Func<int>>(body).Compile(preferInterpretation: true)();
    }

    private static string Sanitize(string s) => string.Concat(s.Select(c => char.IsLetterOrDigit(c) ? c : '_'));

    private Action Finish(List<Expression> body)
    {
        var block = Expression.Block(_locals, [.. _prologue, .. body, Expression.Empty()]);
        return Expression.Lambda<Action>(block, Sanitize(_where), []).Compile();
    }

    private void BindParams(StreamSymbol s, object?[] args)
    {
        foreach (var p in s.Params) _vars[p] = Expression.Constant(args[p.Index], ClrTypes.Of(p.Type));
    }

    private (List<Expression> Load, List<Expression> Store) BindFields(StreamSymbol s, IStrongBox[] boxes)
    {
        var load = new List<Expression>();
        var store = new List<Expression>();
        foreach (var f in s.Fields)
        {
            var t = ClrTypes.Of(f.Type);
            if (_constFields.Contains(f))
            {
                _vars[f] = Expression.Constant(boxes[f.Index].Value, t);
                continue;
            }
            if (_constArrayFields.Contains(f) && boxes[f.Index].Value is Array fixedArray) _constArrays[f] = fixedArray;
            var local = NewLocal(t, f.Name);
            var box = Expression.Field(Expression.Constant(boxes[f.Index], typeof(StrongBox<>).MakeGenericType(t)), "Value");
            load.Add(Expression.Assign(local, box));
            store.Add(Expression.Assign(box, local));
            _vars[f] = local;
        }
        return (load, store);
    }

    private PortAccess BindPort(Channel ch, string name, bool head, List<Expression> pre, List<Expression> post)
    {
        if (ch is DynamicChannel)
            return new PortAccess(NewLocal(ch.ItemType.MakeArrayType(), name + "Unused"), NewLocal(typeof(int), name + "Unused"), ch.ItemType, -1)
                { Queue = Expression.Constant(ch, ch.GetType()) };
        var buf = NewLocal(ch.ItemType.MakeArrayType(), name + "Buf");
        var idx = NewLocal(typeof(int), name + "Index");
        var c = Expression.Constant(ch, ch.GetType());
        var field = Expression.Field(c, head ? nameof(Channel.Head) : nameof(Channel.Tail));
        pre.Add(Expression.Assign(buf, Expression.Field(c, "Buf")));
        pre.Add(Expression.Assign(idx, field));
        post.Add(Expression.Assign(field, idx));
        return new PortAccess(buf, idx, ch.ItemType, ch.Mask);
    }

    private Expression WithReturn(Type type, Func<Expression> body)
    {
        var saved = _return;
        _return = Expression.Label(type, "return");
        try
        {
            var b = body();
            return Expression.Label(_return, type == typeof(void) ? Expression.Block(b, Expression.Empty()) : b);
        }
        finally { _return = saved; }
    }

    private Expression Global(VarSymbol g)
    {
        var box = _globals.Boxes[g.Index];
        var t = ClrTypes.Of(g.Type);
        // Globals are constants once the static block has run (the binder forbids assigning them elsewhere).
        if (!_staticCode) return Expression.Constant(box.Value, t);
        return Expression.Field(Expression.Constant(box, typeof(StrongBox<>).MakeGenericType(t)), "Value");
    }

    private Expression Var(VarSymbol v, Syntax.SourceSpan span)
    {
        if (v.Kind == VarKind.Global) return Global(v);
        // An array used whole (not by Index at a constant): its elements cannot be locals.
        if (!_indexingArray && _workBody is not null && v.Type is ArrayType && PrivateArrays().Contains(v))
        {
            _notScalar.Add(v);
            if (_scalarArrays.Contains(v)) throw new InvalidOperationException($"{span}: '{v.Name}' was scalar-replaced but is used whole");
        }
        if (_vars.TryGetValue(v, out var e)) return e;
        throw new StreamException($"{span}: '{v.Name}' is not available here");
    }
}
