using System.Linq.Expressions;

namespace Loom.Streams.CodeGen;

/// <summary>
/// Moves every object constant of a compiled body (arenas' boxes, tables, the printer, fields' boxes) into a
/// local set once at the top. A compiled lambda reads an object constant from its closure's array and
/// type-checks it at each use; inside a loop whose body calls out (a printer's firing) the JIT cannot hoist that,
/// so FFT2's sink loaded and checked the printer twice per item.
/// </summary>
internal sealed class ConstantHoister : ExpressionVisitor
{
    private readonly Dictionary<(object, Type), ParameterExpression> _locals = [];
    private readonly List<Expression> _sets = [];

    /// <summary><paramref name="body"/> with its object constants read once into locals.</summary>
    public static Expression Hoist(Expression body)
    {
        var h = new ConstantHoister();
        var visited = h.Visit(body);
        if (h._sets.Count == 0) return body;
        return Expression.Block(body.Type, h._locals.Values, [.. h._sets, visited]);
    }

    protected override Expression VisitConstant(ConstantExpression node)
    {
        // Strings and types are emitted inline (ldstr, ldtoken); value types are immediates.
        if (node.Value is null or string or Type || node.Type.IsValueType) return node;
        var key = (node.Value, node.Type);
        if (!_locals.TryGetValue(key, out var local))
        {
            local = Expression.Variable(node.Type, "k" + _locals.Count);
            _locals[key] = local;
            _sets.Add(Expression.Assign(local, node));
        }
        return local;
    }

    // Nested lambdas would capture the locals in a closure: leave them as they are (compiled code has none).
    protected override Expression VisitLambda<T>(Expression<T> node) => node;
}
