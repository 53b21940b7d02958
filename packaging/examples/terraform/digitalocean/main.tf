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

  # The one-liner, from bootrino.tf.
  user_data = local.bootrino_user_data
}

output "public_ip" {
  value = digitalocean_droplet.ram_os.ipv4_address
}
