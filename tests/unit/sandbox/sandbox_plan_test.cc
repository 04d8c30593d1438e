// The --sandbox option logic: which mode, with what, and what the log says
// is unavailable, for root and unprivileged starts.
#include <gtest/gtest.h>

#include "sandbox/sandbox.h"

namespace hostshare::sandbox {
namespace {

Environment Root() { return Environment{0, false}; }
Environment User() { return Environment{1000, false}; }

bool NotesMention(const Plan& p, const std::string& text) {
  for (const auto& n : p.notes) {
    if (n.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(SandboxPlanTest, DefaultIsNamespaceAsRoot) {
  Plan p = PlanSandbox(std::nullopt, Root());
  EXPECT_TRUE(p.error.empty());
  EXPECT_EQ(p.mode, Mode::kNamespace);
  EXPECT_FALSE(p.user_namespace);
  EXPECT_TRUE(p.pivot_root);
  EXPECT_TRUE(p.drop_capabilities);
  EXPECT_TRUE(p.credential_switching);
  EXPECT_TRUE(p.notes.empty());
}

TEST(SandboxPlanTest, DefaultIsNoneWithoutRootAndSaysWhatIsMissing) {
  Plan p = PlanSandbox(std::nullopt, User());
  EXPECT_TRUE(p.error.empty());
  EXPECT_EQ(p.mode, Mode::kNone);
  EXPECT_FALSE(p.drop_capabilities);
  EXPECT_FALSE(p.credential_switching);
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_TRUE(NotesMention(p, "uid 1000"));
  EXPECT_TRUE(NotesMention(p, "the default without root"));
  EXPECT_TRUE(NotesMention(p, "no mount/pid/network namespaces"));
  EXPECT_TRUE(NotesMention(p, "--sandbox=namespace would use a user namespace"));
  EXPECT_TRUE(NotesMention(p, "guest uids/gids are not applied"));
  EXPECT_TRUE(NotesMention(p, "seccomp still applies"));
}

TEST(SandboxPlanTest, ExplicitNoneWithoutRootIsNotCalledDefault) {
  Plan p = PlanSandbox(Mode::kNone, User());
  EXPECT_EQ(p.mode, Mode::kNone);
  EXPECT_FALSE(NotesMention(p, "default"));
  EXPECT_TRUE(NotesMention(p, "unprivileged"));
}

TEST(SandboxPlanTest, NoneAsRootKeepsCapabilityDrop) {
  Plan p = PlanSandbox(Mode::kNone, Root());
  EXPECT_EQ(p.mode, Mode::kNone);
  EXPECT_TRUE(p.drop_capabilities);
  EXPECT_TRUE(p.credential_switching);
  EXPECT_FALSE(p.pivot_root);
}

TEST(SandboxPlanTest, NamespaceWithoutRootUsesAUserNamespace) {
  Plan p = PlanSandbox(Mode::kNamespace, User());
  EXPECT_TRUE(p.error.empty());
  EXPECT_EQ(p.mode, Mode::kNamespace);
  EXPECT_TRUE(p.user_namespace);
  EXPECT_TRUE(p.pivot_root);
  EXPECT_TRUE(p.drop_capabilities);  // the user namespace's
  EXPECT_FALSE(p.credential_switching);
  EXPECT_TRUE(NotesMention(p, "user namespace that maps only this uid"));
}

TEST(SandboxPlanTest, SharingRootCannotPivot) {
  for (auto env : {Root(), User()}) {
    env.shared_dir_is_root = true;
    Plan p = PlanSandbox(Mode::kNamespace, env);
    EXPECT_TRUE(p.error.empty());
    EXPECT_EQ(p.mode, Mode::kNamespace);
    EXPECT_FALSE(p.pivot_root);
    EXPECT_TRUE(NotesMention(p, "pivot_root(2) into the current root fails (EBUSY)"));
  }
  Environment env = Root();
  env.shared_dir_is_root = true;
  EXPECT_FALSE(PlanSandbox(std::nullopt, env).pivot_root);
}

TEST(SandboxPlanTest, ChrootNeedsRoot) {
  Plan p = PlanSandbox(Mode::kChroot, Root());
  EXPECT_TRUE(p.error.empty());
  EXPECT_EQ(p.mode, Mode::kChroot);
  EXPECT_FALSE(p.pivot_root);
  EXPECT_TRUE(p.drop_capabilities);
  Plan u = PlanSandbox(Mode::kChroot, User());
  EXPECT_NE(u.error.find("--sandbox=chroot needs root"), std::string::npos);
  EXPECT_EQ(u.error.find('\n'), std::string::npos);
}

TEST(SandboxPlanTest, ModeNames) {
  EXPECT_STREQ(ModeName(Mode::kNamespace), "namespace");
  EXPECT_STREQ(ModeName(Mode::kChroot), "chroot");
  EXPECT_STREQ(ModeName(Mode::kNone), "none");
}

}  // namespace
}  // namespace hostshare::sandbox
