// The reference chips: the peaks `explain` derives match the published ones.
#include <gtest/gtest.h>

#include "helpers.h"

using namespace bc;
using namespace bc::test;

namespace {
nlohmann::json derived(const std::string& name) {
  return derived_values(load_hw_config(project_root() + "/configs/hw/" + name + ".yaml"));
}
}  // namespace

TEST(ReferenceChips, H100PeaksMatchPublished) {
  auto d = derived("h100");
  // NVIDIA H100 SXM5: dense bf16 989 TFLOPS, fp8 1979 TFLOPS, HBM3 3.35 TB/s, 50 MB L2.
  EXPECT_NEAR(d["peak_ops_per_s"]["tc.bf16"].get<double>() / 989e12, 1.0, 0.01);
  EXPECT_NEAR(d["peak_ops_per_s"]["tc.fp8"].get<double>() / 1979e12, 1.0, 0.01);
  EXPECT_NEAR(d["dram_bandwidth_Bps"].get<double>() / 3.35e12, 1.0, 0.01);
  EXPECT_NEAR(d["shared_sram_bytes"].get<double>() / 50e6, 1.0, 0.01);
  EXPECT_EQ(d["cores"], 132);
}

TEST(ReferenceChips, A100PeaksMatchPublished) {
  auto d = derived("a100");
  // NVIDIA A100 SXM4: bf16 312 TFLOPS, int8 624 TOPS, HBM2e 2.039 TB/s, 40 MB L2, 108 SMs.
  EXPECT_NEAR(d["peak_ops_per_s"]["tc.bf16"].get<double>() / 312e12, 1.0, 0.01);
  EXPECT_NEAR(d["peak_ops_per_s"]["tc.int8"].get<double>() / 624e12, 1.0, 0.01);
  EXPECT_NEAR(d["dram_bandwidth_Bps"].get<double>() / 2.039e12, 1.0, 0.01);
  EXPECT_EQ(d["cores"], 108);
}
