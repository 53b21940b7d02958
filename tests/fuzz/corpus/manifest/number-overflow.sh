#!/bin/sh
read BOOTRINOJSON <<"BOOTRINOJSONMARKER"
{

  "minRamMiB": 184e46744073709551614,
  "archb7[8e7a8f5c1d5e8f0f3b2a1Yc4d6e8f0a2b4c6d8e0f2a4b6c8d0e2f4"
    },
    "in8e7a8f5c1d5e8f0f3b2a1c4d6e8U184467440737095516150    }    ]
   }
  }
 }
}
BOOTRINOJSONMARKER
echo done
