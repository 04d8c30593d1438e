// --modcaps parsing and the capability set arithmetic. The drop itself is
// checked on the real daemon (tests/confinement).
#include "sandbox/capabilities.h"

#include <gtest/gtest.h>
#include <linux/capability.h>

namespace hostshare::sandbox {
namespace {

std::vector<CapChange> ParseOk(const std::string& spec) {
  std::vector<CapChange> out;
  std::string error;
  EXPECT_TRUE(ParseModcaps(spec, &out, &error)) << spec << ": " << error;
  EXPECT_TRUE(error.empty());
  return out;
}

std::string ParseError(const std::string& spec) {
  std::vector<CapChange> out;
  std::string error;
  EXPECT_FALSE(ParseModcaps(spec, &out, &error)) << spec;
  EXPECT_EQ(error.find('\n'), std::string::npos);
  return error;
}

TEST(ModcapsTest, RustVirtiofsdSyntax) {
  EXPECT_EQ(ParseOk("-mknod:+sys_admin"),
            (std::vector<CapChange>{{false, CAP_MKNOD}, {true, CAP_SYS_ADMIN}}));
  EXPECT_EQ(ParseOk("+sys_admin:-chown"),
            (std::vector<CapChange>{{true, CAP_SYS_ADMIN}, {false, CAP_CHOWN}}));
  EXPECT_EQ(ParseOk("-setfcap"), (std::vector<CapChange>{{false, CAP_SETFCAP}}));
}

TEST(ModcapsTest, NamesAreCaseInsensitiveWithOptionalPrefix) {
  EXPECT_EQ(ParseOk("+CAP_SYS_ADMIN"), (std::vector<CapChange>{{true, CAP_SYS_ADMIN}}));
  EXPECT_EQ(ParseOk("+Dac_Read_Search"),
            (std::vector<CapChange>{{true, CAP_DAC_READ_SEARCH}}));
  EXPECT_EQ(ParseOk("-cap_mknod"), (std::vector<CapChange>{{false, CAP_MKNOD}}));
}

TEST(ModcapsTest, Errors) {
  EXPECT_NE(ParseError("").find("needs a value"), std::string::npos);
  EXPECT_NE(ParseError("mknod").find("invalid --modcaps item 'mknod'"), std::string::npos);
  EXPECT_NE(ParseError("+").find("invalid --modcaps item '+'"), std::string::npos);
  EXPECT_NE(ParseError("-mknod:").find("invalid --modcaps item ''"), std::string::npos);
  EXPECT_NE(ParseError(":-mknod").find("invalid --modcaps item ''"), std::string::npos);
  EXPECT_NE(ParseError("-mknod::+chown").find("invalid"), std::string::npos);
  EXPECT_NE(ParseError("+frobnicate").find("unknown capability 'frobnicate'"),
            std::string::npos);
  EXPECT_NE(ParseError("+12").find("unknown capability '12'"), std::string::npos);
  EXPECT_NE(ParseError("-mknod,+chown").find("unknown capability"), std::string::npos);
  EXPECT_NE(ParseError("*chown").find("invalid"), std::string::npos);
}

TEST(ModcapsTest, DefaultSetIsWhatThePassthroughNeeds) {
  EXPECT_EQ(DefaultCapabilities(),
            (std::vector<int>{CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_SETGID,
                              CAP_SETUID, CAP_MKNOD, CAP_SETFCAP}));
  EXPECT_EQ(CapabilityList(DefaultCapabilities()),
            "chown,dac_override,fowner,fsetid,setgid,setuid,mknod,setfcap");
  // The mask /proc/<pid>/status shows for it.
  EXPECT_EQ(CapabilityMask(DefaultCapabilities()), 0x880000dbull);
}

TEST(ModcapsTest, ApplyInOrderWithoutDuplicates) {
  auto base = DefaultCapabilities();
  auto changed = ApplyModcaps(base, ParseOk("-mknod:+sys_admin:+sys_admin:+chown"));
  EXPECT_EQ(changed, (std::vector<int>{CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID,
                                       CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN, CAP_SETFCAP}));
  // Later items win.
  EXPECT_EQ(ApplyModcaps({}, ParseOk("+mknod:-mknod")), std::vector<int>{});
  EXPECT_EQ(ApplyModcaps({}, ParseOk("-mknod:+mknod")), std::vector<int>{CAP_MKNOD});
  // Removing what is not there is fine.
  EXPECT_EQ(ApplyModcaps({CAP_CHOWN}, ParseOk("-sys_admin")), std::vector<int>{CAP_CHOWN});
  EXPECT_EQ(CapabilityList({}), "none");
  EXPECT_EQ(CapabilityName(CAP_SYS_ADMIN), "sys_admin");
}

}  // namespace
}  // namespace hostshare::sandbox
