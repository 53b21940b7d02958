# A golden image with bootrino baked in: the static binary in /usr/local/bin and packaging/bootrino.service
# enabled, so an instance launched from it boots into the RAM OS its user-data names (see the unit's header).
# The source here is AWS's Debian 12; with another builder (googlecompute, digitalocean, qemu…) keep the
# build block's two provisioners as they are.
#   packer init . && packer build -var 'bootrino_url=https://…/bootrino/0.1.0' .

packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.2.0"
    }
  }
}

variable "bootrino_url" {
  description = "Where the release's install.sh, bootrino-<arch> and .sha256 files are published"
  type        = string
}

variable "region" {
  type    = string
  default = "eu-central-1"
}

locals {
  stamp = regex_replace(timestamp(), "[- TZ:]", "")
}

source "amazon-ebs" "debian" {
  region        = var.region
  instance_type = "t3.small"
  ssh_username  = "admin"
  ami_name      = "debian-12-bootrino-${local.stamp}"

  source_ami_filter {
    filters = {
      name                = "debian-12-amd64-*"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["136693071363"]
    most_recent = true
  }
}

build {
  sources = ["source.amazon-ebs.debian"]

  provisioner "file" {
    source      = "${path.root}/../../bootrino.service"
    destination = "/tmp/bootrino.service"
  }

  # install.sh verifies the binary against the SHA-256 the release pinned in it (add --key PUB.pem to require a
  # signature too).
  # The stamp directory is removed last so that the image's first boot is each instance's first boot.
  provisioner "shell" {
    inline = [
      "curl -fsSL ${var.bootrino_url}/install.sh | sudo sh -s -- --install-only --dir /usr/local/bin",
      "/usr/local/bin/bootrino --version",
      "sudo install -m 644 /tmp/bootrino.service /etc/systemd/system/bootrino.service",
      "sudo systemctl enable bootrino.service",
      "sudo rm -rf /var/lib/bootrino",
    ]
  }
}
