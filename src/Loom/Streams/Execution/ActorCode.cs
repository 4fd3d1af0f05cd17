using Loom.Streams.CodeGen;
using Loom.Streams.Scheduling;

namespace Loom.Streams.Execution;

/// <summary>
/// The compiled firing function of one actor: <c>Fire(n)</c> runs n firings in a row (the first one is the
/// prework, once). Errors inside a work function come out as a <see cref="StreamException"/> naming the filter.
/// </summary>
public sealed class ActorCode
{
    private readonly Action<int> _work;
    private Action<int>? _pre;

    public ActorCode(Actor actor, Action<int> work, Action<int>? pre)
    {
        Actor = actor;
        _work = work;
        _pre = pre;
    }

    public Actor Actor { get; }

    public void Fire(int n)
    {
        try
        {
            if (_pre is not null && n > 0)
            {
                _pre(1);
                _pre = null;
                n--;
            }
            if (n > 0) _work(n);
        }
        catch (Exception e) when (e is not (LoomException or StopRunException))
        {
            throw new StreamException($"filter {Actor.Name} failed while running: {e.GetType().Name}: {e.Message}", e);
        }
    }

    public static ActorCode Compile(Actor a, GlobalStore globals, Printer printer)
    {
        switch (a.Kind)
        {
            case ActorKind.Filter:
            {
                var f = a.Filter!;
                var input = a.In.Count > 0 ? a.In[0]!.Channel : null;
                var output = a.Out.Count > 0 ? a.Out[0]!.Channel : null;
                var box = f.Symbol.HasHandlers || f.Symbol.SendsMessages ? f.Box : null;
                var work = CodeGen.CodeGen.CompileWork(f.Symbol, f.Symbol.Work!, f.Args, f.Fields, input, output, globals, printer, box);
                var pre = f.Symbol.Prework is { } p ? CodeGen.CodeGen.CompileWork(f.Symbol, p, f.Args, f.Fields, input, output, globals, printer, box) : null;
                return new ActorCode(a, work, pre);
            }
            case ActorKind.Splitter or ActorKind.Joiner when a.In.Concat(a.Out).Any(e => e is { Dynamic: true }):
            {
                var t = a.In.Concat(a.Out).First(e => e is not null)!.Channel!.ItemType;
                var dyn = typeof(DynamicSplitJoinCode);
                var work = a.Kind == ActorKind.Splitter
                    ? dyn.GetMethod(nameof(DynamicSplitJoinCode.Splitter))!.MakeGenericMethod(t).Invoke(null, [a.In[0]!.Channel, a.Out.Select(e => e?.Channel).ToArray(), a.Spec])
                    : dyn.GetMethod(nameof(DynamicSplitJoinCode.Joiner))!.MakeGenericMethod(t).Invoke(null, [a.In.Select(e => e?.Channel).ToArray(), a.Out[0]!.Channel, a.Pop]);
                return new ActorCode(a, (Action<int>)work!, null);
            }
            case ActorKind.Splitter:
            {
                var input = a.In[0]!.Channel!;
                var outs = Array.CreateInstance(input.GetType(), a.Out.Count);
                for (int i = 0; i < a.Out.Count; i++) outs.SetValue(a.Out[i]?.Channel, i);
                var m = typeof(SplitJoinCode).GetMethod(nameof(SplitJoinCode.Splitter))!.MakeGenericMethod(input.ItemType);
                return new ActorCode(a, (Action<int>)m.Invoke(null, [input, outs, a.Spec])!, null);
            }
            default:
            {
                var output = a.Out[0]!.Channel!;
                var ins = Array.CreateInstance(output.GetType(), a.In.Count);
                for (int i = 0; i < a.In.Count; i++) ins.SetValue(a.In[i]?.Channel, i);
                var m = typeof(SplitJoinCode).GetMethod(nameof(SplitJoinCode.Joiner))!.MakeGenericMethod(output.ItemType);
                return new ActorCode(a, (Action<int>)m.Invoke(null, [ins, output, a.Pop])!, null);
            }
        }
    }
}
