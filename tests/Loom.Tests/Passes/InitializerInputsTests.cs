using Loom.IR;
using Loom.Passes;
using static Loom.Tests.Passes.PassTestModels;

namespace Loom.Tests.Passes;

public sealed class InitializerInputsTests
{
    private static Graph WeightAsInput() => new("main", [V("x", "float32[2]"), V("w", "float32[2]")], [V("y")],
        [N("Add", ["x", "w"], ["y"])], new Dictionary<string, Tensor> { ["w"] = F(1, 2) });

    [Fact]
    public void BeforeIrVersion4InitializerInputsBecomeConstants()
    {
        var model = InitializerInputs.Run(M(WeightAsInput(), irVersion: 3));
        Assert.Equal(4, model.IrVersion);
        AssertText("""
            graph main(x: float32[2]) -> (y: ?) {
              init w = float32[2] {1, 2}
              y = Add(x, w)
              return y
            }
            """, model);
    }

    [Fact]
    public void FromIrVersion4TheyStayOverridableInputs()
    {
        var model = M(WeightAsInput(), irVersion: 8);
        Assert.Same(model, InitializerInputs.Run(model));
    }
}
