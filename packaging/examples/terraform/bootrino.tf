# What the three examples share, linked into each of them as bootrino.tf (edit it here, once): the two inputs
# every example takes and the user-data they give the instance, the README's one-liner. cloud-init runs it as
# root once, on first boot; bootrino detaches, cloud-init finishes, then the kexec into the RAM OS.

variable "bootrino_url" {
  description = "Where the release's install.sh, bootrino-<arch> and .sha256 files are published"
  type        = string
}

variable "manifest" {
  description = "The RAM OS: https://HOST/PATH/bootrino.sh#sha256=HEX"
  type        = string
}

locals {
  bootrino_user_data = <<-EOT
    #!/bin/sh
    curl -fsSL ${var.bootrino_url}/install.sh | sh -s -- '${var.manifest}' --yes
  EOT
}
