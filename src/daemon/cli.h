// Command-line parsing: the Rust virtiofsd flags (both "--flag value" and
// "--flag=value") and the legacy QEMU virtiofsd "-o opt[,opt...]" form.
//
// A wrong flag or value is reported as one line and a usage error; options
// this version does not implement are rejected with "not yet supported",
// never silently ignored.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "daemon/config.h"

namespace hostshare::daemon {

struct ParseOutcome {
  bool ok = false;
  Config config;
  std::string error;  // one line, when !ok
};

ParseOutcome ParseCommandLine(const std::vector<std::string>& args);

const char* UsageText();
const char* CapabilitiesJson();

}  // namespace hostshare::daemon
