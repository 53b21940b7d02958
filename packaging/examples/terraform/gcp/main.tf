# A Compute Engine instance that becomes the RAM OS named by var.manifest. GCP's Ubuntu images run cloud-init,
# which reads the `user-data` metadata key (Debian's GCP images have no cloud-init: they would need the
# `startup-script` key instead). bootrino also reads the project's and instance's `ssh-keys` for the RAM OS.
#   terraform init && terraform apply -var 'project=my-project' -var 'manifest=https://…/bootrino.sh#sha256=…'

terraform {
  required_version = ">= 1.3"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.0"
    }
  }
}

variable "project" {
  type = string
}

variable "zone" {
  type    = string
  default = "europe-west1-b"
}

variable "machine_type" {
  description = "Enough memory for the RAM OS and its payload (t2a-* machines are arm64: use an arm64 image)"
  type        = string
  default     = "e2-small"
}

variable "ssh_public_key" {
  description = "\"user:ssh-ed25519 AAAA… comment\", put into the RAM OS for root; empty for none"
  type        = string
  default     = ""
}

provider "google" {
  project = var.project
  zone    = var.zone
}

resource "google_compute_instance" "ram_os" {
  name         = "bootrino-ram-os"
  machine_type = var.machine_type

  boot_disk {
    initialize_params {
      image = "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
    }
  }

  network_interface {
    network = "default"
    access_config {}
  }

  metadata = {
    # The one-liner, from bootrino.tf.
    user-data = local.bootrino_user_data
    ssh-keys  = var.ssh_public_key
  }
}

output "public_ip" {
  value = google_compute_instance.ram_os.network_interface[0].access_config[0].nat_ip
}
