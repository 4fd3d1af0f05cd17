using System.Linq.Expressions;
using Loom.Streams.Execution;
using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

internal sealed partial class CodeGen
{
    /// <summary>Teleport messaging in compiled work: sends, and handlers run between firings.</summary>
    private static class Messages
    {
        /// <summary>
        /// One firing of a filter that sends or handles messages: messages due now run their handlers first (on the
        /// same field locals as work, so the firing sees what they changed), then the firing, then the count moves.
        /// </summary>
        public static Expression Counted(CodeGen g, Expression firing)
        {
            var box = Expression.Constant(g._box!);
            var fired = Expression.Field(box, nameof(MessageBox.Fired));
            var parts = new List<Expression>();
            var handlers = g._filter!.Functions.Where(f => f.IsHandler).ToList();
            if (handlers.Count > 0)
            {
                var m = g.NewLocal(typeof(Message), "message");
                var brk = Expression.Label("delivered");
                var calls = handlers.Select((h, i) => Expression.IfThen(
                    Expression.Equal(Expression.Property(m, nameof(Message.Handler)), Expression.Constant(i)), Handler(g, h, m))).ToList();
                parts.Add(Expression.Loop(Expression.Block(
                    Expression.IfThen(Expression.LessThan(fired, Expression.Field(box, nameof(MessageBox.Due))), Expression.Break(brk)),
                    Expression.Assign(m, Expression.Call(box, typeof(MessageBox).GetMethod(nameof(MessageBox.Take))!)),
                    Expression.Block(typeof(void), calls)), brk));
            }
            parts.Add(firing);
            parts.Add(Expression.PreIncrementAssign(fired));
            return Expression.Block(typeof(void), parts);
        }

        private static Expression Handler(CodeGen g, FunctionSymbol h, ParameterExpression m)
        {
            var setup = new List<Expression>();
            int i = 0;
            foreach (var p in h.Parameters)
            {
                var t = ClrTypes.Of(p.Type);
                var local = g.NewLocal(t, p.Name);
                g._vars[p] = local;
                setup.Add(Expression.Assign(local, Expression.Call(typeof(Messaging).GetMethod(nameof(Messaging.Arg))!.MakeGenericMethod(t), m, Expression.Constant(i++))));
            }
            setup.Add(g.WithReturn(typeof(void), () => g.Stmt(h.Body)));
            return Expression.Block(typeof(void), setup);
        }

        public static Expression Send(CodeGen g, BMessage msg)
        {
            if (g._box is null) throw g.Unsupported(msg.Span, "a teleport message sent outside work or prework");
            var args = msg.Args.Select(a => (Expression)Expression.Convert(CopyIfStruct(g.Expr(a)), typeof(object)));
            var latency = msg.MaxLatency ?? msg.MinLatency;
            return Expression.Call(typeof(Messaging).GetMethod(nameof(Messaging.Send))!,
                Expression.Convert(g.Expr(msg.Portal), typeof(object)), Expression.Constant(g._box), Expression.Constant(msg.Handler),
                Expression.NewArrayInit(typeof(object), args), latency is null ? Expression.Constant(0) : g.Expr(latency));
        }
    }
}
