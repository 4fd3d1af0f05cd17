using System.Collections.Immutable;
using Loom.Streams.Syntax;

namespace Loom.Streams.Semantics;

public sealed partial class Binder
{
    /// <summary>Math intrinsics taking and returning a real (float, or double when given a double).</summary>
    internal static readonly HashSet<string> RealFunctions =
    [
        "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp", "log", "log10",
        "floor", "ceil", "round", "rint", "cbrt", "expm1", "log1p",
    ];
    internal static readonly HashSet<string> RealFunctions2 = ["atan2", "pow", "fmod", "hypot"];

    private BExpr BindCall(CallExpr c, bool statement)
    {
        switch (c.Name)
        {
            case "push": return BindPush(c);
            case "pop":
                RequireStreamAccess(c, input: true);
                if (c.Args.Length != 0) throw c.Span.Error("pop() takes no arguments");
                return new BPop(_stream!.InputType!, c.Span);
            case "peek":
                RequireStreamAccess(c, input: true);
                if (c.Args.Length != 1) throw c.Span.Error("peek takes one argument: the position to look at");
                return new BPeek(Coerce(BindExpr(c.Args[0]), SType.Int, c.Args[0].Span, "a peek index"), _stream!.InputType!, c.Span);
            case "print" or "println": return BindPrint(c, statement);
        }
        var helper = _stream?.Functions.FirstOrDefault(f => f.Name == c.Name)
                     ?? (_prog.Functions.TryGetValue(c.Name, out var g) ? g : null);
        if (helper is not null)
        {
            if (helper.IsHandler) throw c.Span.Error($"{c.Name} is a message handler; it is called by sending a message through a portal");
            if (c.Args.Length != helper.Parameters.Length)
                throw c.Span.Error($"{c.Name} takes {helper.Parameters.Length} argument(s) but {c.Args.Length} are given");
            var args = c.Args.Select((a, i) => Coerce(BindExpr(a), helper.Parameters[i].Type, a.Span, $"argument {helper.Parameters[i].Name} of {c.Name}"))
                .ToImmutableArray();
            return new BCall(helper, args, c.Span);
        }
        return BindIntrinsic(c);
    }

    private void RequireStreamAccess(CallExpr c, bool input)
    {
        if (_stream is null || _stream.Kind != StreamKind.Filter || _code is not (CodeKind.Work or CodeKind.Prework or CodeKind.Helper))
            throw c.Span.Error($"{c.Name} is only allowed in a filter's work or prework (or a helper they call)");
        var t = input ? _stream.InputType : _stream.OutputType;
        if (t == SType.Void) throw c.Span.Error($"{c.Name}: filter {_stream.Name} has no {(input ? "input" : "output")} (its {(input ? "input" : "output")} type is void)");
    }

    private BExpr BindPush(CallExpr c)
    {
        RequireStreamAccess(c, input: false);
        if (c.Args.Length != 1) throw c.Span.Error("push takes one argument: the item to push");
        var v = Coerce(BindExpr(c.Args[0]), _stream!.OutputType!, c.Args[0].Span, "the pushed item");
        return new BPush(v, c.Span);
    }

    private BExpr BindPrint(CallExpr c, bool statement)
    {
        if (!statement) throw c.Span.Error($"{c.Name} does not return a value");
        if (_code is CodeKind.Composite or CodeKind.Static or CodeKind.FieldInit)
            throw c.Span.Error($"{c.Name} is only allowed in a filter's init, work, prework or helpers");
        if (c.Args.Length > 1) throw c.Span.Error($"{c.Name} takes one argument (join strings with +)");
        var parts = ImmutableArray.CreateBuilder<BExpr>();
        if (c.Args.Length == 1) Flatten(BindExpr(c.Args[0]));
        return new BPrint(parts.ToImmutable(), c.Name == "println", c.Span);

        void Flatten(BExpr e)
        {
            if (e is BBinary { Op: BinOp.Add, Type: PrimType { Name: "string" } } b)
            {
                Flatten(b.Left);
                Flatten(b.Right);
                return;
            }
            if (!(e.Type.IsScalar || e.Type == SType.String || e.Type == SType.Complex))
                throw e.Span.Error($"cannot print a {e.Type}");
            parts.Add(e);
        }
    }

    private BExpr BindIntrinsic(CallExpr c)
    {
        var args = c.Args.Select(BindExpr).ToImmutableArray();
        string Bad() => $"{c.Name} cannot take ({string.Join(", ", args.Select(a => a.Type))})";
        void Arity(int n)
        {
            if (args.Length != n) throw c.Span.Error($"{c.Name} takes {n} argument{(n == 1 ? "" : "s")}, not {args.Length}");
        }
        if (RealFunctions.Contains(c.Name))
        {
            Arity(1);
            if (!args[0].Type.IsNumeric) throw c.Span.Error(Bad());
            var t = args[0].Type == SType.Double ? SType.Double : SType.Float;
            return new BIntrinsic(c.Name, [Coerce(args[0], t, c.Span)], t, c.Span);
        }
        if (RealFunctions2.Contains(c.Name))
        {
            Arity(2);
            var t = TypeRules.Promote(args[0].Type, args[1].Type);
            if (t is null || t == SType.Complex) throw c.Span.Error(Bad());
            if (t.IsIntLike) t = SType.Float;
            return new BIntrinsic(c.Name, [Coerce(args[0], t, c.Span), Coerce(args[1], t, c.Span)], t, c.Span);
        }
        switch (c.Name)
        {
            case "abs" or "fabs":
            {
                Arity(1);
                var t = args[0].Type;
                if (t == SType.Complex) return new BIntrinsic("cabs", args, SType.Float, c.Span);
                if (!t.IsNumeric) throw c.Span.Error(Bad());
                if (t.IsIntLike) t = c.Name == "fabs" ? SType.Float : SType.Int;
                return new BIntrinsic("abs", [Coerce(args[0], t, c.Span)], t, c.Span);
            }
            case "min" or "max":
            {
                Arity(2);
                var t = TypeRules.Promote(args[0].Type, args[1].Type);
                if (t is null || t == SType.Complex) throw c.Span.Error(Bad());
                return new BIntrinsic(c.Name, [Coerce(args[0], t, c.Span), Coerce(args[1], t, c.Span)], t, c.Span);
            }
            case "real" or "imag":
                Arity(1);
                if (args[0].Type != SType.Complex) throw c.Span.Error(Bad());
                return new BFieldAccess(args[0], c.Name == "real" ? 0 : 1, SType.Float, c.Span);
        }
        throw c.Span.Error($"unknown function '{c.Name}'");
    }
}
