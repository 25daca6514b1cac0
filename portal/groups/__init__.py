"""Classes, school profile groups, teaching and manual groups, broadcast lists."""
