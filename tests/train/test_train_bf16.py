"""bf16 on a CPU that only emulates it is said, with the fix (it is ~13x slower than float32)."""

from trait.train.trainer import native_bf16


def test_native_bf16_is_read_from_the_cpu_flags():
    assert native_bf16("flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_tile")
    assert native_bf16("flags : avx2 amx_bf16 amx_tile")
    assert not native_bf16("flags\t\t: fpu sse2 avx2 fma avx512f avx512bw")
