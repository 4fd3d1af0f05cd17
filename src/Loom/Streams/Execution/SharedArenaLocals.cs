using System.Linq.Expressions;

namespace Loom.Streams.Execution;

/// <summary>
/// In a shared loop every member reads its ports' arena from the same box into a local of its own, and all of them
/// live across the loop: Figure1's loop held the one float arena in five locals, four spilled to the stack and
/// reloaded in every iteration. This keeps the first local of each box and makes the others its uses (a local read
/// once from a box and never assigned again holds the same array as any other such local of that box).
/// LOOM_STREAM_MERGE_ARENAS=0 leaves the locals apart (for comparing).
/// </summary>
internal static class SharedArenaLocals
{
    private static readonly bool Enabled = Environment.GetEnvironmentVariable("LOOM_STREAM_MERGE_ARENAS") != "0";

    public static Expression Merge(Expression block, List<ParameterExpression> locals)
    {
        if (!Enabled) return block;
        var finder = new Finder();
        finder.Visit(block);
        var keep = new Dictionary<object, ParameterExpression>();
        var replace = new Dictionary<ParameterExpression, ParameterExpression>();
        foreach (var (local, box) in finder.FromBox)
        {
            if (finder.Assignments[local] != 1) continue;
            if (!keep.TryGetValue(box, out var first)) keep[box] = local;
            else if (first.Type == local.Type) replace[local] = first;
        }
        if (replace.Count == 0) return block;
        locals.RemoveAll(replace.ContainsKey);
        return new Rewriter(replace).Visit(block);
    }

    /// <summary>The locals assigned <c>box.Value</c> of a constant box, and how often each local is assigned at all.</summary>
    private sealed class Finder : ExpressionVisitor
    {
        public readonly List<(ParameterExpression Local, object Box)> FromBox = [];
        public readonly Dictionary<ParameterExpression, int> Assignments = [];

        protected override Expression VisitBinary(BinaryExpression node)
        {
            if (node.Left is ParameterExpression p && node.NodeType is ExpressionType.Assign or ExpressionType.AddAssign or ExpressionType.SubtractAssign
                    or ExpressionType.MultiplyAssign or ExpressionType.DivideAssign or ExpressionType.ModuloAssign or ExpressionType.AndAssign
                    or ExpressionType.OrAssign or ExpressionType.ExclusiveOrAssign or ExpressionType.LeftShiftAssign or ExpressionType.RightShiftAssign)
            {
                Assignments[p] = Assignments.GetValueOrDefault(p) + 1;
                if (node.NodeType == ExpressionType.Assign && node.Right is MemberExpression { Expression: ConstantExpression { Value: System.Runtime.CompilerServices.IStrongBox box }, Member.Name: "Value" })
                    FromBox.Add((p, box));
            }
            return base.VisitBinary(node);
        }

        protected override Expression VisitUnary(UnaryExpression node)
        {
            if (node.Operand is ParameterExpression p && node.NodeType is ExpressionType.PreIncrementAssign or ExpressionType.PostIncrementAssign
                    or ExpressionType.PreDecrementAssign or ExpressionType.PostDecrementAssign)
                Assignments[p] = Assignments.GetValueOrDefault(p) + 1;
            return base.VisitUnary(node);
        }
    }

    private sealed class Rewriter(Dictionary<ParameterExpression, ParameterExpression> replace) : ExpressionVisitor
    {
        protected override Expression VisitBinary(BinaryExpression node) =>
            node.NodeType == ExpressionType.Assign && node.Left is ParameterExpression p && replace.ContainsKey(p)
                ? Expression.Assign(replace[p], replace[p]) // the duplicate read of the box: now a no-op the JIT drops
                : base.VisitBinary(node);

        protected override Expression VisitParameter(ParameterExpression node) => replace.TryGetValue(node, out var r) ? r : node;

        protected override Expression VisitBlock(BlockExpression node)
        {
            // A block declaring a replaced local no longer declares it (visiting its variables would declare the kept one again).
            var vars = node.Variables.Where(v => !replace.ContainsKey(v)).ToList();
            return Expression.Block(node.Type, vars, node.Expressions.Select(Visit)!);
        }
    }
}
