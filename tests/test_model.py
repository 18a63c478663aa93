"""The informed separator: shapes, attention masking, padding invariance, outputs, training."""

from dataclasses import replace

import pytest
import torch

from wiass.config import ModelConfig, load_config
from wiass.errors import ConfigError, SideInfoError
from wiass.model import InformedSeparator, SideEncoder, masked_softmax

BINS = 12
TINY = ModelConfig(
    hidden_size=8,
    mix_layers=2,
    side_layers=2,
    decoder_layers=1,
    side_hidden_size=6,
    attention_size=5,
)


def tiny(side_dim: int, **changes) -> InformedSeparator:
    torch.manual_seed(0)
    return InformedSeparator(BINS, side_dim, replace(TINY, **changes))


def mixture(batch: int = 3, frames: int = 7) -> torch.Tensor:
    return torch.rand(batch, frames, BINS, generator=torch.Generator().manual_seed(1)) * 2


def mask_of(lengths: list[int], steps: int) -> torch.Tensor:
    return torch.arange(steps).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)


@pytest.mark.parametrize("side_dim", [0, 1, 12])
def test_shapes_for_every_side_dim(side_dim):
    model = tiny(side_dim)
    mix = mixture()
    side = torch.rand(3, 5, side_dim) if side_dim else None
    estimate, alpha = model(mix, side)
    assert estimate.shape == mix.shape
    if side_dim == 0:
        assert alpha is None
        assert not hasattr(model, "side_encoder")
    else:
        assert alpha.shape == (3, 7, 5)
        estimate, alpha = model(mix, torch.zeros(3, 0, side_dim))
        assert alpha.shape == (3, 7, 0) and torch.isfinite(estimate).all()
        activity = torch.rand(3, 4, side_dim, dtype=torch.float64) > 0.5
        assert model(mix, activity)[1].shape == (3, 7, 4)


def test_attention_sums_to_one_and_padding_gets_exactly_zero():
    model = tiny(1)
    lengths = [5, 2, 0]
    side = torch.rand(3, 5, 1)
    estimate, alpha = model(mixture(), side, mask_of(lengths, 5))
    assert torch.isfinite(estimate).all() and torch.isfinite(alpha).all()
    for b, length in enumerate(lengths):
        assert (alpha[b, :, length:] == 0).all()
        expected = 1.0 if length else 0.0
        torch.testing.assert_close(alpha[b].sum(-1), torch.full((7,), expected))


def test_all_padding_example_gives_finite_gradients():
    model = tiny(1)
    side = torch.rand(2, 4, 1, requires_grad=True)
    estimate, alpha = model(mixture(2), side, mask_of([0, 3], 4))
    (estimate.sum() + alpha.sum()).backward()
    for name, param in model.named_parameters():
        assert torch.isfinite(param.grad).all(), name
    assert torch.isfinite(side.grad).all()


def test_masked_softmax_without_lengths_is_plain_softmax():
    scores = torch.randn(2, 3, 4)
    torch.testing.assert_close(masked_softmax(scores, None), scores.softmax(-1))
    full = masked_softmax(scores, torch.tensor([4, 4]))
    torch.testing.assert_close(full, scores.softmax(-1))


def test_appended_padding_changes_nothing():
    model = tiny(3)
    mix = mixture(1)
    side = torch.rand(1, 4, 3)
    reference, alpha_ref = model(mix, side)
    for extra in (1, 6):
        junk = torch.randn(1, extra, 3) * 100
        padded = torch.cat((side, junk), dim=1)
        estimate, alpha = model(mix, padded, mask_of([4], 4 + extra))
        torch.testing.assert_close(estimate, reference, rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(alpha[..., :4], alpha_ref, rtol=1e-6, atol=1e-6)
        assert (alpha[..., 4:] == 0).all()


def test_padding_in_a_batch_matches_each_example_alone():
    model = tiny(2)
    mix = mixture(2)
    sides = [torch.rand(1, 6, 2), torch.rand(1, 3, 2)]
    batch_side = torch.cat((sides[0], torch.cat((sides[1], torch.ones(1, 3, 2)), 1)))
    estimate, alpha = model(mix, batch_side, mask_of([6, 3], 6))
    for b, side in enumerate(sides):
        alone, alpha_alone = model(mix[b : b + 1], side)
        torch.testing.assert_close(estimate[b : b + 1], alone, rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(alpha[b : b + 1, :, : side.shape[1]], alpha_alone)


def test_side_encoder_equals_a_bidirectional_lstm():
    torch.manual_seed(0)
    encoder = SideEncoder(3, 5, layers=2, dropout=0.0)
    lstm = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True)
    for k, (fwd, bwd) in enumerate(
        zip(encoder.forward_layers, encoder.backward_layers, strict=True)
    ):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(lstm, f"{name}_l{k}").data.copy_(getattr(fwd, f"{name}_l0"))
            getattr(lstm, f"{name}_l{k}_reverse").data.copy_(getattr(bwd, f"{name}_l0"))
    x = torch.randn(2, 6, 3)
    torch.testing.assert_close(encoder(x, None), lstm(x)[0])
    padded = encoder(x, torch.tensor([6, 4]))
    torch.testing.assert_close(padded[1:, :4], lstm(x[1:, :4])[0])


@pytest.mark.parametrize("output", ["mask", "clamped_mask", "magnitude"])
def test_output_is_non_negative(output):
    model = tiny(1, output=output)
    with torch.no_grad():
        model.output_layer.bias.fill_(-0.5)
    estimate, _ = model(mixture(), torch.rand(3, 4, 1))
    assert (estimate >= 0).all()
    if output != "mask":
        assert (estimate == 0).any()


def test_clamped_mask_is_exactly_zero_or_the_mixture_when_saturated():
    model = tiny(1, output="clamped_mask")
    mix = mixture()
    with torch.no_grad():
        model.output_layer.weight.zero_()
        model.output_layer.bias.fill_(-1.0)
        assert (model(mix, torch.rand(3, 4, 1))[0] == 0).all()
        model.output_layer.bias.fill_(1.0)
        torch.testing.assert_close(model(mix, torch.rand(3, 4, 1))[0], mix)


def test_position_term_starts_on_the_diagonal_and_respects_padding():
    model = tiny(1, position_frequencies=16, position_prior=1.0)
    with torch.no_grad():
        model.attention_weight.zero_()
    frames, steps = 40, 20
    mask = mask_of([20, 10], steps)
    _, alpha = model(mixture(2, frames), torch.rand(2, steps, 1), mask)
    n = torch.arange(frames)
    assert ((alpha[0].argmax(-1) - n * steps // frames).abs() <= 1).all()
    assert ((alpha[1].argmax(-1) - n * 10 // frames).abs() <= 1).all()
    assert (alpha[1, :, 10:] == 0).all()


def test_position_term_is_a_learned_parameter():
    plain, positioned = tiny(1), tiny(1, position_frequencies=4)
    assert positioned.position_weight.shape == (8, 8)
    assert positioned.position_weight.requires_grad
    assert positioned.n_parameters == plain.n_parameters + 64


def test_mask_output_never_exceeds_the_mixture():
    model = tiny(1, output="mask")
    with torch.no_grad():
        model.output_layer.bias.fill_(20.0)
    mix = mixture()
    estimate, _ = model(mix, torch.rand(3, 4, 1))
    assert (estimate <= mix).all()
    assert (estimate > 0.99 * mix).all()


def test_normalisation_is_used_and_saved(tmp_path):
    model = tiny(1)
    mix, side = mixture(), torch.rand(3, 4, 1)
    before, _ = model(mix, side)
    model.set_normalization(torch.linspace(0.5, 1.5, BINS), torch.linspace(0.1, 2.0, BINS))
    after, _ = model(mix, side)
    assert not torch.allclose(before, after)
    state = model.state_dict()
    torch.testing.assert_close(state["input_mean"], torch.linspace(0.5, 1.5, BINS))
    torch.testing.assert_close(state["input_scale"], 1 / torch.linspace(0.1, 2.0, BINS))
    torch.save(state, tmp_path / "model.pt")
    fresh = tiny(1)
    fresh.load_state_dict(torch.load(tmp_path / "model.pt"))
    torch.testing.assert_close(fresh(mix, side)[0], after)


def test_default_normalisation_is_identity():
    model = tiny(0)
    assert (model.input_mean == 0).all() and (model.input_scale == 1).all()
    with pytest.raises(ConfigError, match="normalisation std: expected 12 values"):
        model.set_normalization(torch.zeros(BINS), torch.ones(BINS + 1))


def test_infer_is_gradient_free_and_keeps_the_mode():
    model = tiny(1, dropout=0.5)
    model.train()
    mix, side = mixture(), torch.rand(3, 4, 1)
    estimate, _ = model.infer(mix, side)
    assert model.training and not estimate.requires_grad
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(estimate, model(mix, side)[0])


@pytest.mark.parametrize(
    ("side", "mask", "message"),
    [
        (None, None, "needs side information"),
        (torch.rand(3, 4, 2), None, r"expected side information \(3, steps, 1\)"),
        (torch.rand(3, 4, 1), torch.ones(3, 4), "side_mask must be bool"),
        (torch.rand(3, 4, 1), torch.tensor([[True, False, True, True]] * 3), "real steps first"),
    ],
)
def test_bad_side_information_is_a_side_info_error(side, mask, message):
    with pytest.raises(SideInfoError, match=message):
        tiny(1)(mixture(), side, mask)


def test_bad_shapes_and_config_are_config_errors():
    with pytest.raises(ConfigError, match=r"\(batch, frames, 12\)"):
        tiny(0)(torch.rand(2, 5, BINS + 1))
    with pytest.raises(ConfigError, match="model.output"):
        tiny(0, output="wave")
    with pytest.raises(ConfigError, match="model.mix_layers"):
        tiny(0, mix_layers=0)
    with pytest.raises(ConfigError, match="model.position_frequencies"):
        tiny(1, position_frequencies=-1)


@pytest.fixture
def one_thread():
    """Tiny models run fastest on one thread (and do not fight other processes for cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def structured_example(frames: int = 24) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A random spectral template sounding on 8 consecutive frames over random accompaniment.

    Returns the activity ``(1, N)``, the mixture and the target ``(1, N, BINS)``.
    """
    gen = torch.Generator().manual_seed(0)
    active = torch.zeros(1, frames)
    start = int(torch.randint(0, frames - 8, (1,), generator=gen))
    active[0, start : start + 8] = 1
    template = 0.5 + 0.5 * torch.rand(BINS, generator=gen)
    target = active.unsqueeze(-1) * template
    accompaniment = 0.5 * torch.rand(1, frames, BINS, generator=gen)
    return active, target + accompaniment, target


@pytest.mark.parametrize("side_dim", [1, 0])
def test_tiny_model_overfits_one_example(side_dim, one_thread):
    torch.manual_seed(0)
    model = InformedSeparator(BINS, side_dim, ModelConfig(16, 1, 1, 1, 8, 16, "mask"))
    active, mix, target = structured_example()
    side = active[:, ::3, None] if side_dim else None
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(300):
        optimizer.zero_grad()
        loss = torch.nn.functional.l1_loss(model(mix, side)[0], target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert min(losses[-10:]) < losses[0] / 10


def test_paper_preset_has_about_32_million_parameters():
    paper = load_config("paper").model
    with torch.device("meta"):
        model = InformedSeparator(513, 1, paper)
        baseline = InformedSeparator(513, 0, paper)

    def blstm(inputs: int, hidden: int, layers: int) -> int:
        sizes = [inputs] + [2 * hidden] * (layers - 1)
        return sum(2 * (4 * hidden * (s + hidden) + 8 * hidden) for s in sizes)

    expected = (
        blstm(513, 513, 2)
        + blstm(1, 513, 2)
        + 1026 * 1026
        + (1026 + 1026) * 513
        + 513
        + blstm(513, 513, 2)
        + 1026 * 513
        + 513
    )
    assert model.n_parameters == expected
    assert 31.5e6 < model.n_parameters < 32.5e6
    assert baseline.n_parameters == expected - blstm(1, 513, 2) - 1026 * 1026 - 1026 * 513
    assert "32,160,996 parameters" in model.describe()
