# A droplet that becomes the RAM OS named by var.manifest: stock Debian 12, whose cloud-init runs the
# user-data script (the README's one-liner) on first boot. bootrino reads the droplet's SSH keys from the
# metadata service for the RAM OS. The public interface has no DHCP on DigitalOcean: the RAM OS must be given
# the droplet's static addresses (the metadata service has them).
#   terraform init && terraform apply -var 'manifest=https://…/bootrino.sh#sha256=…' -var 'ssh_key_ids=["123"]'
# The provider reads the API token from DIGITALOCEAN_TOKEN.

terraform {
  required_version = ">= 1.3"
  required_providers {
    digitalocean = {
      source  = "digitalocean/digitalocean"
      version = ">= 2.0"
    }
  }
}

variable "region" {
  type    = string
  default = "fra1"
}

variable "bootrino_url" {
  description = "Where the release's install.sh, bootrino-<arch> and .sha256 files are published"
  type        = string
}

variable "manifest" {
  description = "The RAM OS: https://HOST/PATH/bootrino.sh#sha256=HEX"
  type        = string
}

variable "size" {
  description = "Enough memory for the RAM OS and its payload"
  type        = string
  default     = "s-1vcpu-2gb"
}

variable "ssh_key_ids" {
  description = "IDs or fingerprints of SSH keys in the account, put into the RAM OS for root"
  type        = list(string)
  default     = []
}

resource "digitalocean_droplet" "ram_os" {
  name     = "bootrino-ram-os"
  image    = "debian-12-x64"
  region   = var.region
  size     = var.size
  ssh_keys = var.ssh_key_ids

  # cloud-init runs this as root once; bootrino detaches, cloud-init finishes, then the kexec.
  user_data = templatefile("${path.module}/../user-data.sh.tftpl", { bootrino_url = var.bootrino_url, manifest = var.manifest })
}

output "public_ip" {
  value = digitalocean_droplet.ram_os.ipv4_address
}
